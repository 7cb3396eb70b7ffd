/** Serves a dashboard on loopback for a test, the way the monitor's ops server does. */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createDashboard, type Dashboard, type DashboardOptions } from '../src/index.js'

export interface ServedDashboard {
  url: string
  dashboard: Dashboard
  close(): Promise<void>
}

/** Paths the dashboard leaves alone get this answer, so tests can tell who answered. */
export const NOT_OURS = 'not a dashboard path\n'

export async function serveDashboard(options: DashboardOptions): Promise<ServedDashboard> {
  const dashboard = createDashboard(options)
  const server: Server = createServer((req, res) => {
    dashboard.handle(req, res).then(
      (handled) => {
        if (!handled) {
          res.writeHead(404, { 'content-type': 'text/plain' })
          res.end(NOT_OURS)
        }
      },
      () => res.destroy(),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    dashboard,
    async close() {
      await dashboard.close()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}
