/**
 * `jetmon2 api smoke`: an end-to-end check of a deployment through its API. It creates one marked
 * test site (`https://jetmon-smoke.invalid/?batch=<name>`: the `.invalid` name never resolves, so
 * its check fails and feeds the confirmation pipeline), triggers it, reads its events, lists (and
 * with `--alert-contact`, tests) alert contacts, and deletes the site again.
 */
import { randomInt } from 'node:crypto'
import { JetmonApiError } from '@jetmon/api-client'
import { CommandError } from '@jetmon/config'
import { defineApiCommand } from '../_command.js'
import type { Session } from '../_session.js'
import { UsageError } from '../errors.js'
import { formatJson, terminalSafe } from '../output.js'
import { print } from './_shared.js'
import { checkBatchName } from './sites-bulk.js'

/** Default test blog ids: 9·10^18 + a random offset, far above any WordPress.com blog id. */
const SMOKE_BLOG_BASE = 9_000_000_000_000_000_000n

export interface SmokeStep {
  step: string
  ok: boolean | null
  ms: number
  detail: string
  request_id?: string | null
}

function stepLine(step: SmokeStep): string {
  const result = step.ok === null ? 'skipped' : step.ok ? 'ok' : 'FAILED'
  return `${result.padEnd(7)}  ${step.step.padEnd(20)}  ${`${step.ms} ms`.padStart(8)}  ${terminalSafe(step.detail)}`
}

const failure = (error: unknown) =>
  error instanceof JetmonApiError
    ? { detail: `${error.code} (HTTP ${error.status}): ${error.message}`, request_id: error.requestId }
    : { detail: (error as Error)?.message ?? String(error), request_id: null }

export const smoke = defineApiCommand({
  name: 'smoke',
  description:
    'End-to-end check of a deployment: health, identity, a marked test site, trigger, events, alerts, cleanup',
  examples: [
    'jetmon2 api smoke',
    'jetmon2 api smoke --url https://jetmon.example.com --allow-remote --batch smoke-$(date +%Y%m%d) --alert-contact 5',
  ],
  routes: [
    'health',
    'me',
    'sites.create',
    'sites.triggerNow',
    'events.listForSite',
    'alertContacts.list',
    'alertContacts.test',
    'sites.delete',
  ],
  writes: true,
  args: {
    batch: {
      type: 'string',
      valueHint: 'name',
      description: 'Marker put in the test site URL (?batch=…), so a cleanup can find it; required for a remote API',
    },
    'blog-id': {
      type: 'string',
      valueHint: 'id',
      description: 'Blog id of the test site (default: a random one above 9·10^18)',
    },
    'monitor-url': {
      type: 'string',
      valueHint: 'url',
      description: 'URL of the test site (default https://jetmon-smoke.invalid/?batch=<batch>)',
    },
    'alert-contact': {
      type: 'string',
      valueHint: 'id',
      description: 'Also send a test message through this alert contact',
    },
  },
  async run({ args, session }) {
    const batch = checkBatchName(args.batch)
    session.assertWritable('smoke', { needsBatch: true, batch })
    const name = batch ?? `smoke-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`
    const blogId = args['blog-id'] ?? (SMOKE_BLOG_BASE + BigInt(randomInt(1, 1_000_000_000))).toString()
    if (!/^[1-9]\d{0,19}$/.test(blogId))
      throw new UsageError(`--blog-id: must be a positive whole number, got ${JSON.stringify(blogId)}`)
    const contact = args['alert-contact']
    if (contact !== undefined && !/^[1-9]\d{0,19}$/.test(contact))
      throw new UsageError(`--alert-contact: must be an alert contact id, got ${JSON.stringify(contact)}`)
    const monitorUrl = args['monitor-url'] ?? `https://jetmon-smoke.invalid/?batch=${encodeURIComponent(name)}`

    const steps = await runSmoke(session, { name, blogId, monitorUrl, contact })
    const ok = steps.every((s) => s.ok !== false)
    if (session.format === 'json')
      print(formatJson({ ok, batch: name, blog_id: blogId, monitor_url: monitorUrl, steps }, session.pretty))
    const failed = steps.filter((s) => s.ok === false).length
    const total = steps.reduce((sum, s) => sum + s.ms, 0)
    if (failed > 0) throw new CommandError(`smoke failed: ${failed} of ${steps.length} step(s) failed (${total} ms)`)
    if (session.format === 'table')
      print(`\nsmoke passed: ${steps.length} steps in ${total} ms (batch ${name}, blog ${blogId})`)
  },
})

async function runSmoke(
  session: Session,
  input: { name: string; blogId: string; monitorUrl: string; contact: string | undefined },
): Promise<SmokeStep[]> {
  const steps: SmokeStep[] = []
  const live = session.format === 'table'
  if (live) print(`smoke test of ${session.connection.apiBaseUrl} (batch ${input.name}, blog ${input.blogId})\n`)
  const record = (step: SmokeStep) => {
    steps.push(step)
    if (live) print(stepLine(step))
  }
  const skip = (step: string, why: string) => record({ step, ok: null, ms: 0, detail: why })
  /** Runs one step; `check` turns an answer into a detail line, or throws to fail the step. */
  const attempt = async <T>(
    step: string,
    run: () => Promise<T>,
    check: (value: T) => string,
  ): Promise<T | undefined> => {
    const started = performance.now()
    try {
      const value = await run()
      record({ step, ok: true, ms: Math.round(performance.now() - started), detail: check(value) })
      return value
    } catch (error) {
      record({ step, ok: false, ms: Math.round(performance.now() - started), ...failure(error) })
      return undefined
    }
  }

  // Every request carries the batch in its X-Request-ID, which the api_access audit rows keep.
  const run = randomInt(1, 2 ** 32).toString(36)
  const rid = (step: string) => `smoke.${input.name}.${step}.${run}`
  const healthy = await attempt(
    'health',
    () => session.call('health', {}, { requestId: rid('health') }),
    (r) => `status ${(r.data as { status: string }).status}`,
  )
  if (!healthy) {
    for (const step of ['me', 'create site', 'trigger now', 'events', 'alert contacts', 'delete site'])
      skip(step, 'the API is not healthy')
    return steps
  }
  const me = await attempt(
    'me',
    () => session.call('me', {}, { requestId: rid('me') }),
    (r) => {
      const key = r.data as { consumer: string; scope: string }
      if (key.scope === 'read') throw new Error(`key ${key.consumer} has the read scope; smoke needs write`)
      return `${key.consumer} (${key.scope})`
    },
  )
  if (!me) {
    for (const step of ['create site', 'trigger now', 'events', 'alert contacts', 'delete site'])
      skip(step, 'no usable key')
    return steps
  }

  let created = false
  await attempt(
    'create site',
    async () => {
      try {
        // A long interval: the monitor itself should leave the test site alone between steps.
        const body = { blog_id: input.blogId, monitor_url: input.monitorUrl, check_interval_sec: 86_400 }
        await session.call('sites.create', { body }, { requestId: rid('create') })
        created = true
        return `blog ${input.blogId} ${input.monitorUrl}`
      } catch (error) {
        // Our own marked site, left by an interrupted run: use it (and clean it up).
        if (error instanceof JetmonApiError && error.code === 'site_exists') {
          created = true
          return `blog ${input.blogId} already monitors ${input.monitorUrl} (left by an earlier run): reusing it`
        }
        throw error
      }
    },
    (detail) => detail,
  )
  if (!created) {
    for (const step of ['trigger now', 'events']) skip(step, 'no test site')
  } else {
    await attempt(
      'trigger now',
      () => session.call('sites.triggerNow', { params: { blog_id: input.blogId } }, { requestId: rid('trigger') }),
      (r) => {
        const results = (r.data as { results: { success: boolean; outcome: string; error: string | null }[] }).results
        if (results.length === 0) throw new Error('no endpoint was checked')
        return results.map((x) => `${x.success ? 'up' : `down (${x.error ?? 'error'})`} → ${x.outcome}`).join(', ')
      },
    )
    await attempt(
      'events',
      () => session.call('events.listForSite', { params: { blog_id: input.blogId } }, { requestId: rid('events') }),
      (r) => {
        const events = (r.data as { data: { id: unknown; state: string; ended_at: string | null }[] }).data
        const open = events.filter((e) => e.ended_at === null)
        return `${events.length} event(s), ${open.length} open${open.length > 0 ? `: ${open.map((e) => `${e.id} ${e.state}`).join(', ')}` : ''}`
      },
    )
  }
  await attempt(
    'alert contacts',
    () => session.call('alertContacts.list', { query: { limit: 200 } }, { requestId: rid('alert-contacts') }),
    (r) => `${(r.data as { data: unknown[] }).data.length} contact(s)`,
  )
  if (input.contact !== undefined) {
    await attempt(
      'alert contact test',
      () => session.call('alertContacts.test', { params: { id: input.contact! } }, { requestId: rid('alert-test') }),
      (r) => {
        const answer = r.data as { transport: string; status_code: number | null; duration_ms: number }
        return `${answer.transport} answered ${answer.status_code ?? '-'} in ${answer.duration_ms} ms`
      },
    )
  }
  if (created)
    await attempt(
      'delete site',
      () => session.call('sites.delete', { params: { blog_id: input.blogId } }, { requestId: rid('delete') }),
      () => `blog ${input.blogId} deleted`,
    )
  else skip('delete site', 'nothing to clean up')
  return steps
}
