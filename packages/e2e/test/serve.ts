// One `jetmon2 serve` with its REST API on, over fixture sites, a local DNS server and a private
// database: the set-up the REST API and probe-guard suites share.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase, refusedPort, type TestDatabase } from '@jetmon/testkit'
import {
  type DnsServer,
  type FixtureServer,
  type FixtureServerOptions,
  startDnsServer,
  startFixtureServer,
} from '@jetmon/testkit/fixtures'
import { lines, spawnJetmon2 } from './jetmon2.js'

export interface RunningServe {
  t: TestDatabase
  sites: FixtureServer
  dns: DnsServer
  monitor: ChildProcess
  output: ReturnType<typeof lines>
  /** The REST API's base URL, as its "REST API listening" line says. */
  apiUrl: string
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>
  /** `HOST_ID` of the process (`e2e-<name>-<database>`). */
  hostId: string
  /** The environment a `jetmon2` command needs to reach this process's config file. */
  env(): NodeJS.ProcessEnv
  /** Rewrites the config file: the suite's settings with `overrides` on top (a reload reads it). */
  writeConfig(overrides?: Record<string, unknown>): void
  /** Kills the process if it still runs, closes the fixtures and drops the database. */
  close(): Promise<void>
}

/**
 * Starts `jetmon2 serve` and resolves once its REST API listens and the monitor runs. `config` is
 * laid over the shared settings (3 s check timeout, targets reloaded every second, no verifliers,
 * no dashboard, no WordPress.com notices, JSON logs).
 */
export async function startServe(input: {
  name: string
  sites?: FixtureServerOptions
  config?: Record<string, unknown>
}): Promise<RunningServe> {
  const tmp = mkdtempSync(join(tmpdir(), `jetmon-e2e-${input.name}-`))
  const configFile = join(tmp, 'jetmon2.json')
  const sites = await startFixtureServer(input.sites)
  const dns = await startDnsServer({ zone: sites.zone() })
  writeFileSync(join(tmp, 'ca.pem'), sites.ca)
  const t = await createTestDatabase()
  const apiPort = await refusedPort() // free until the monitor's REST API binds it
  const hostId = `e2e-${input.name}-${t.name}`
  const writeConfig = (overrides: Record<string, unknown> = {}) =>
    writeFileSync(
      configFile,
      JSON.stringify({
        DATABASE_URL: t.url,
        HOST_ID: hostId,
        DNS_SERVERS: [dns.server],
        CA_FILE: join(tmp, 'ca.pem'),
        VERIFLIERS: [],
        CHECK_TIMEOUT_MS: 3_000,
        TARGET_RELOAD_SEC: 1,
        DASHBOARD_PORT: 0,
        API_PORT: apiPort,
        WPCOM_NOTIFY_ENABLE: false,
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
        ...input.config,
        ...overrides,
      }),
    )
  const env = () => ({ JETMON_CONFIG: configFile, DATABASE_URL: '' })
  writeConfig()
  const monitor = spawnJetmon2(['serve'], env())
  const exited = new Promise<number | null>((resolve) => monitor.on('close', resolve))
  const output = lines(monitor)
  const close = async () => {
    if (monitor.exitCode === null) monitor.kill('SIGKILL')
    await Promise.all([sites.close(), dns.close()])
    await t.drop()
    rmSync(tmp, { recursive: true, force: true })
  }
  try {
    const listening = await output.until(/REST API listening/, 45_000)
    const { url } = JSON.parse(listening) as { url: string }
    await output.until(/monitor running/)
    return { t, sites, dns, monitor, output, apiUrl: url, exited, hostId, env, writeConfig, close }
  } catch (error) {
    await close()
    throw error
  }
}
