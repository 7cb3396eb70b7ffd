import { readFileSync } from 'node:fs'
import { createConnection, isIP } from 'node:net'
import { formatIssue } from '@jetmon/config'
import { createDatabase, migrationStatus, serverVersion } from '@jetmon/db'
import { createVeriflierAgent, isUntrustedCertificate, untrustedCertificateDetail } from '@jetmon/monitor'
import { hostRolloutLocks } from '@jetmon/scheduler'
import { defineCommand } from 'citty'
import { request } from 'undici'
import { configArg } from '../command-config.js'
import { type Jetmon2Config, loadJetmon2Config } from '../config.js'
import { resolveDatabase } from '../database.js'
import { CommandError } from '../errors.js'
import { plannedProcesses, workerHostId } from '../supervisor.js'
import { databaseProblem } from './migrate.js'

export type Verdict = 'PASS' | 'INFO' | 'WARN' | 'FAIL'
export interface Finding {
  verdict: Verdict
  topic: string
  message: string
}

const isLoopback = (address: string) => address === 'localhost' || address === '::1' || address.startsWith('127.')

/** Whether a URL's host is this machine (`localhost`, 127.0.0.0/8, `[::1]`). */
function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  if (host === 'localhost' || host.endsWith('.localhost')) return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1' || /^::ffff:127\./i.test(host)
}

async function checkDatabase(config: Jetmon2Config, add: (f: Finding) => void): Promise<void> {
  let target: ReturnType<typeof resolveDatabase>
  try {
    target = resolveDatabase(config)
  } catch (error) {
    add({ verdict: 'FAIL', topic: 'database', message: (error as Error).message })
    return
  }
  const { db, pool, close } = createDatabase(target.url, { connectionLimit: 1, connectTimeout: 3_000 })
  try {
    const version = await serverVersion({ ctx: { pool } })
    add({ verdict: 'PASS', topic: 'database', message: `reachable at ${target.display} (server ${version})` })
    const status = await migrationStatus(pool)
    add(
      status.pending.length
        ? {
            verdict: 'FAIL',
            topic: 'schema',
            message: `${status.pending.length} migration(s) pending (${status.pending.map((m) => m.tag).join(', ')}): run jetmon2 migrate`,
          }
        : { verdict: 'PASS', topic: 'schema', message: `migrated (${status.applied.length} migration(s) applied)` },
    )
    if (config.ROLLOUT_MODE === 'api-controlled' && status.pending.length === 0) {
      const locks = await hostRolloutLocks({ ctx: { db }, hostId: config.HOST_ID })
      add({
        verdict: 'INFO',
        topic: 'buckets',
        message: locks.length
          ? `rollout locks of host ${config.HOST_ID}: ${locks.map((l) => `${l.range.min}–${l.range.max} (${l.state})`).join(', ')}`
          : `no range is activated for host ${config.HOST_ID} yet: it checks nothing until one is`,
      })
    }
  } catch (error) {
    add({ verdict: 'FAIL', topic: 'database', message: `${target.display}: ${databaseProblem(error as Error)}` })
  } finally {
    await close()
  }
}

async function checkVerifliers(config: Jetmon2Config, add: (f: Finding) => void): Promise<void> {
  const verifliers = config.VERIFLIERS
  if (verifliers.length === 0) {
    add({
      verdict: 'WARN',
      topic: 'verifliers',
      message: `none configured: an outage is called Down after ${config.NUM_OF_CHECKS} local failures, without confirmation from another region`,
    })
    return
  }
  const quorum =
    config.VERIFLIER_QUORUM === 'auto' ? Math.max(1, Math.floor(verifliers.length / 2) + 1) : config.VERIFLIER_QUORUM
  let ca: string[] = []
  if (config.CA_FILE) {
    try {
      ca = [readFileSync(config.CA_FILE, 'utf8')]
    } catch (error) {
      add({
        verdict: 'FAIL',
        topic: 'ca',
        message: `CA_FILE: cannot read ${config.CA_FILE}: ${(error as Error).message}`,
      })
    }
  }
  // Trusts what the running monitor trusts: the built-in roots plus CA_FILE.
  const agent = createVeriflierAgent(ca)
  let reachable = 0
  await Promise.all(
    verifliers.map(async (veriflier) => {
      const base = new URL(veriflier.url)
      if (base.protocol === 'http:' && !isLoopbackUrl(base)) {
        // Not even probed: the monitor would send its token and sites' headers there in clear text.
        add({
          verdict: 'FAIL',
          topic: 'verifliers',
          message: `${veriflier.id} (${veriflier.region}) ${base.origin}: plain HTTP to another host would carry the bearer token and every site's custom headers unencrypted; serve the veriflier over HTTPS (its TLS_CERT_FILE and TLS_KEY_FILE) and use an https:// URL`,
        })
        return
      }
      const url = new URL('v1/health', veriflier.url.endsWith('/') ? veriflier.url : `${veriflier.url}/`)
      try {
        const response = await request(url, { dispatcher: agent, signal: AbortSignal.timeout(3_000) })
        const body = (await response.body.json().catch(() => ({}))) as { version?: string; status?: string }
        if (response.statusCode !== 200 || body.status !== 'ok') throw new Error(`answered HTTP ${response.statusCode}`)
        reachable++
        add({
          verdict: 'PASS',
          topic: 'verifliers',
          message: `${veriflier.id} (${veriflier.region}) reachable, version ${body.version ?? 'unknown'}`,
        })
      } catch (error) {
        const reason = isUntrustedCertificate(error)
          ? untrustedCertificateDetail(base.origin, error)
          : (error as Error).name === 'TimeoutError'
            ? 'no answer within 3 s'
            : (error as Error).message
        add({
          verdict: 'WARN',
          topic: 'verifliers',
          message: `${veriflier.id} (${veriflier.region}) at ${url.origin} unreachable: ${reason}`,
        })
      }
    }),
  )
  await agent.close()
  add(
    reachable >= quorum
      ? {
          verdict: 'PASS',
          topic: 'verifliers',
          message: `quorum ${quorum} of ${verifliers.length}: ${reachable} reachable`,
        }
      : {
          verdict: 'FAIL',
          topic: 'verifliers',
          message: `quorum ${quorum} of ${verifliers.length} but only ${reachable} reachable: outages would stay Seems Down, unconfirmed`,
        },
  )
}

function tcpReachable(host: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port })
    const finish = (problem: string | null) => {
      socket.destroy()
      resolve(problem)
    }
    socket.setTimeout(timeoutMs, () => finish(`no answer within ${timeoutMs / 1000} s`))
    socket.once('connect', () => finish(null))
    socket.once('error', (error) => finish(error.message))
  })
}

async function checkEmail(config: Jetmon2Config, add: (f: Finding) => void): Promise<void> {
  switch (config.EMAIL_TRANSPORT) {
    case 'stub':
      add({ verdict: 'WARN', topic: 'email', message: 'EMAIL_TRANSPORT is stub: alert mails are logged, never sent' })
      return
    case 'wpcom':
      add({
        verdict: 'INFO',
        topic: 'email',
        message: `sent through the WordPress.com email endpoint ${config.WPCOM_EMAIL_URL ?? ''}`,
      })
      return
    case 'smtp': {
      const host = config.SMTP_HOST ?? ''
      const port = config.SMTP_PORT ?? (config.SMTP_SECURE ? 465 : 587)
      const problem = await tcpReachable(host, port, 3_000)
      add(
        problem
          ? { verdict: 'FAIL', topic: 'email', message: `SMTP server ${host}:${port} unreachable: ${problem}` }
          : { verdict: 'PASS', topic: 'email', message: `SMTP server ${host}:${port} accepts connections` },
      )
      if (config.SMTP_USER !== undefined && !config.SMTP_SECURE && config.SMTP_REQUIRE_TLS === false) {
        add({
          verdict: 'WARN',
          topic: 'email',
          message:
            'SMTP_REQUIRE_TLS is false: the SMTP login goes out unencrypted when the server offers no STARTTLS (or the path strips it)',
        })
      }
    }
  }
}

function checkListeners(config: Jetmon2Config, add: (f: Finding) => void): void {
  if (config.DASHBOARD_PORT === 0) add({ verdict: 'INFO', topic: 'dashboard', message: 'off (DASHBOARD_PORT 0)' })
  else if (isLoopback(config.DASHBOARD_BIND))
    add({
      verdict: 'PASS',
      topic: 'dashboard',
      message: `${config.DASHBOARD_BIND}:${config.DASHBOARD_PORT} (loopback only)`,
    })
  else
    add({
      verdict: 'WARN',
      topic: 'dashboard',
      message: `bound to ${config.DASHBOARD_BIND}:${config.DASHBOARD_PORT}: reachable from the network, so every page needs an API key to sign in`,
    })
  if (config.API_PORT === 0) add({ verdict: 'INFO', topic: 'api', message: 'off (API_PORT 0)' })
  else add({ verdict: 'INFO', topic: 'api', message: `/api/v1 on ${config.API_BIND ?? '0.0.0.0'}:${config.API_PORT}` })
}

/** The `buckets` finding of a standby or api-controlled host (ROLLOUT_MODE). */
function rolloutModeFinding(config: Jetmon2Config): Finding | null {
  if (config.ROLLOUT_MODE === 'standby') {
    return {
      verdict: 'INFO',
      topic: 'buckets',
      message: `ROLLOUT_MODE standby: host ${config.HOST_ID} registers and serves health, metrics and the API, and checks nothing`,
    }
  }
  if (config.ROLLOUT_MODE === 'api-controlled') {
    return {
      verdict: 'INFO',
      topic: 'buckets',
      message: `ROLLOUT_MODE api-controlled: host ${config.HOST_ID} checks exactly the ranges activated for it through the rollout API, read every ${config.ROLLOUT_POLL_SEC} s`,
    }
  }
  return null
}

function checkFleet(config: Jetmon2Config, add: (f: Finding) => void): void {
  const rollout = rolloutModeFinding(config)
  if (rollout) add(rollout)
  else
    add(
      config.PINNED_BUCKET_MIN !== undefined && config.PINNED_BUCKET_MAX !== undefined
        ? {
            verdict: 'INFO',
            topic: 'buckets',
            message: `pinned to buckets ${config.PINNED_BUCKET_MIN}–${config.PINNED_BUCKET_MAX} of ${config.BUCKET_TOTAL}`,
          }
        : {
            verdict: 'INFO',
            topic: 'buckets',
            message: `dynamic: a share of ${config.BUCKET_TOTAL} buckets through ${config.BUCKET_LEASE_SEC} s leases (host ${config.HOST_ID})`,
          },
    )
  const plan = plannedProcesses(config)
  add({
    verdict: 'INFO',
    topic: 'processes',
    message:
      plan.count > 1
        ? `${plan.count} checking processes (${plan.reason}): serve and ${plan.count - 1} worker(s) leased as ${workerHostId(config.HOST_ID, 2)}${plan.count > 2 ? `…${workerHostId(config.HOST_ID, plan.count)}` : ''}, one API, dashboard and /metrics`
        : `one checking process: ${plan.reason.replace(/^one: /, '')}`,
  })
  add(
    config.DELIVERY_WORKERS_ENABLE
      ? { verdict: 'INFO', topic: 'delivery', message: 'webhook and alert delivery workers run in this process' }
      : {
          verdict: 'INFO',
          topic: 'delivery',
          message: 'delivery workers are off here: run `jetmon2 deliver` (or enable them) on some host',
        },
  )
  add({
    verdict: 'INFO',
    topic: 'check policy',
    message: `endpoints that set no request method or detection profile are checked with ${config.DEFAULT_REQUEST_METHOD} and the ${config.DEFAULT_DETECTION_PROFILE} profile (DEFAULT_REQUEST_METHOD, DEFAULT_DETECTION_PROFILE)`,
  })
  if (!config.SECRETS_KEY)
    add({
      verdict: 'WARN',
      topic: 'secrets',
      message: 'SECRETS_KEY is not set: webhook secrets and alert destinations are stored unencrypted',
    })
  add(
    config.WPCOM_NOTIFY_ENABLE
      ? { verdict: 'INFO', topic: 'wpcom', message: `Down and recovery notices go to ${config.WPCOM_NOTIFY_URL}` }
      : { verdict: 'INFO', topic: 'wpcom', message: 'WordPress.com notifications are off (WPCOM_NOTIFY_ENABLE)' },
  )
}

/** Every finding about a configuration file and the services it points at. */
export async function validateConfiguration(options: {
  file?: string | undefined
  env?: NodeJS.ProcessEnv
}): Promise<Finding[]> {
  const findings: Finding[] = []
  const add = (finding: Finding) => findings.push(finding)
  const loaded = loadJetmon2Config({
    ...(options.file ? { file: options.file } : {}),
    ...(options.env ? { env: options.env } : {}),
  })
  for (const warning of loaded.warnings) add({ verdict: 'WARN', topic: 'config', message: formatIssue(warning) })
  if (!loaded.ok) {
    for (const issue of loaded.issues) add({ verdict: 'FAIL', topic: 'config', message: formatIssue(issue) })
    return findings
  }
  const from = loaded.sources.file ?? 'no file (defaults)'
  const env = loaded.sources.env.length ? ` + environment (${loaded.sources.env.join(', ')})` : ''
  add({ verdict: 'PASS', topic: 'config', message: `valid: ${from}${env}` })
  const config = loaded.config
  await checkDatabase(config, add)
  checkFleet(config, add)
  await checkVerifliers(config, add)
  await checkEmail(config, add)
  checkListeners(config, add)
  return findings
}

const COLOUR: Record<Verdict, string> = { PASS: '\x1b[32m', INFO: '\x1b[36m', WARN: '\x1b[33m', FAIL: '\x1b[31m' }

export default defineCommand({
  meta: { name: 'validate-config', description: 'Check the configuration and what it points at; exit 1 on any FAIL' },
  args: { ...configArg, json: { type: 'boolean', description: 'Print the findings as JSON' } },
  async run({ args }) {
    const findings = await validateConfiguration({ file: args.config })
    const failed = findings.filter((f) => f.verdict === 'FAIL').length
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ ok: failed === 0, findings })}\n`)
    } else {
      const colour = process.stdout.isTTY
      const width = Math.max(...findings.map((f) => f.topic.length))
      for (const f of findings) {
        const verdict = colour ? `${COLOUR[f.verdict]}${f.verdict}\x1b[0m` : f.verdict
        process.stdout.write(`${verdict}  ${f.topic.padEnd(width)}  ${f.message}\n`)
      }
      const warned = findings.filter((f) => f.verdict === 'WARN').length
      process.stdout.write(`\n${failed} failure(s), ${warned} warning(s)\n`)
    }
    if (failed) throw new CommandError(`${failed} check(s) failed`, { exitCode: 1 })
  },
})
