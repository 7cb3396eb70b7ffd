import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { ApiApp } from './app.js'

export interface RunningApiServer {
  /** `http://host:port/api/v1`. */
  url: string
  port: number
  /** Stops accepting, waits for requests in flight (at most `graceMs`), flushes the audit. */
  close(graceMs?: number): Promise<void>
}

/** Serves an {@link ApiApp} on `bind:port` (port 0 picks a free one). */
export async function startApiServer(api: ApiApp, options: { port: number; bind?: string }): Promise<RunningApiServer> {
  const bind = options.bind ?? '127.0.0.1'
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: api.app.fetch, port: options.port, hostname: bind }, () => resolve(s))
    s.once('error', reject)
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${host}:${address.port}/api/v1`,
    port: address.port,
    async close(graceMs = 10_000) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
        }, graceMs)
        timer.unref()
        server.close(() => {
          clearTimeout(timer)
          resolve()
        })
        ;(server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.()
      })
      await api.close()
    },
  }
}
