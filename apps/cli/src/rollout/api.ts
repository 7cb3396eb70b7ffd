/**
 * The {@link RolloutPort} of the guided flow over the REST API (`/api/v1/rollout/…`), through the
 * command's {@link Session}: each answer reduced to what guided decides on and the lines a person
 * reads.
 */
import type { Session } from '../_session.js'
import { formatTable, formatValue } from '../output.js'
import type { BucketRange, RolloutPort, TwoPhaseKind } from './guided.js'
import type { DryRunAnswer } from './two-phase.js'

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)
const obj = (value: unknown): Json => (isObject(value) ? value : {})
const list = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isObject) : [])
const num = (value: unknown): number | null =>
  typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : null

/** The path of each two-phase step. */
export const STEP_PATHS: Record<TwoPhaseKind, string> = {
  adopt: '/rollout/adopt',
  activate: '/rollout/activate',
  release: '/rollout/release',
  stage: '/rollout/policy-stages',
  'rollback-all': '/rollout/policy-stages/rollback-all',
}

/** Who owns a range, as a person reads it: `v1`, `lock 7 → host-b (active)`, `pinned host-a`, `dynamic a, b`. */
export function ownerText(owner: unknown): string {
  const o = obj(owner)
  switch (o.kind) {
    case 'v1':
      return 'v1'
    case 'lock':
      return `${String(o.host_id ?? '?')} (lock ${String(o.lock_id ?? '?')}, ${String(o.phase ?? '?')})`
    case 'pinned':
      return `${String(o.host_id ?? '?')} (pinned)`
    case 'dynamic':
      return `dynamic: ${(Array.isArray(o.host_ids) ? o.host_ids : []).join(', ')}`
    default:
      return typeof owner === 'string' ? owner : JSON.stringify(owner)
  }
}

/** The host that checks a range: the lock's or pinned host, `v1`, or null for dynamic owners. */
function ownerId(owner: unknown): string | null {
  const o = obj(owner)
  if (o.kind === 'v1') return 'v1'
  if ((o.kind === 'lock' || o.kind === 'pinned') && typeof o.host_id === 'string') return o.host_id
  return null
}

const overlapping = (row: Json, range: BucketRange) =>
  (num(row.bucket_min) ?? -1) <= range.max && range.min <= (num(row.bucket_max) ?? -1)

/** The ranges of a status answer that overlap `range`, as a table. */
export function statusRows(status: unknown, range?: BucketRange): Json[] {
  return list(obj(status).ranges).filter((row) => !range || overlapping(row, range))
}

export function statusTable(rows: readonly Json[]): string {
  return formatTable(
    ['buckets', 'owner', 'in transition', 'endpoints', 'checked 15 min', 'freshness'],
    rows.map((row) => [
      `${String(row.bucket_min)}-${String(row.bucket_max)}`,
      ownerText(row.owner),
      row.in_transition ? 'yes' : 'no',
      String(row.endpoints ?? ''),
      String(row.checked_recently ?? ''),
      typeof row.freshness === 'number' ? `${Math.round(row.freshness * 1000) / 10}%` : '',
    ]),
  )
}

/** A reconcile report for a person: the verdict, the counts, and the offenders (at most 10 shown). */
export function reconcileLines(report: Json): string[] {
  const drift = obj(report.drift)
  const lines = [
    `reconcile since ${String(report.since)}: ${report.passed ? 'PASSED' : 'NOT PASSED'} — ${String(report.endpoints)} active endpoint(s), ${String(report.unchecked)} not checked since then, projection drift ${String(drift.count ?? 0)}, ${list(report.locks_in_transition).length} lock(s) in transition`,
  ]
  const offenders = list(report.offenders)
  if (offenders.length > 0) {
    lines.push(formatValue(offenders.slice(0, 10)))
    if (offenders.length > 10)
      lines.push(`… and ${offenders.length - 10} more (jetmon2 api rollout reconcile shows up to 100)`)
  }
  return lines
}

/** The port over `session`. */
export function restRolloutPort(session: Session): RolloutPort {
  const get = async (path: string) => (await session.raw({ method: 'GET', path })).data
  const post = async (path: string, body: unknown, idempotencyKey?: string) =>
    (await session.raw({ method: 'POST', path, body, ...(idempotencyKey ? { idempotencyKey } : {}) })).data
  const sessionField = (sessionId: string | null) => (sessionId !== null ? { session_id: sessionId } : {})
  const rangeBody = (range: BucketRange) => ({ bucket_min: range.min, bucket_max: range.max })
  const reconcile = async (range: BucketRange, since: Date, sessionId: string | null) =>
    obj(
      await post('/rollout/reconcile', { ...rangeBody(range), since: since.toISOString(), ...sessionField(sessionId) }),
    )

  return {
    async identity() {
      const me = obj(await get('/me'))
      const consumer = String(me.consumer ?? '?')
      const scope = String(me.scope ?? '?')
      return {
        consumer,
        scope,
        lines: [`API ${session.connection.apiBaseUrl}, key ${consumer} (scope ${scope})`],
      }
    },
    async capabilities() {
      const caps = obj(await get('/rollout/capabilities'))
      const bucketTotal = num(caps.bucket_total)
      return {
        bucketTotal,
        lines: [
          `rollout capabilities: BUCKET_TOTAL ${String(caps.bucket_total ?? '?')}, confirmation tokens valid ${String(caps.token_ttl_sec ?? '?')} s, API ${String(caps.api_version ?? '?')}`,
        ],
      }
    },
    async rangeStatus(range) {
      const rows = statusRows(await get('/rollout/status'), range)
      const owners = new Set(rows.map((row) => ownerId(row.owner)))
      const owner = owners.size === 1 ? [...owners][0]! : null
      return {
        owner,
        inTransition: rows.some((row) => row.in_transition === true),
        lines: [`owners of buckets ${range.min}-${range.max} now:`, statusTable(rows)],
      }
    },
    async openSession(name, range) {
      const sessions = list(obj(await get('/rollout/sessions?limit=200')).data)
      const same = sessions.find(
        (s) =>
          s.name === name && num(s.bucket_min) === range.min && num(s.bucket_max) === range.max && s.state !== 'closed',
      )
      if (same) return String(same.id)
      const created = obj(await post('/rollout/sessions', { name, ...rangeBody(range) }))
      return String(created.id)
    },
    async preflight(range, host, sessionId) {
      const answer = obj(
        await post('/rollout/preflight', { ...rangeBody(range), host_id: host, ...sessionField(sessionId) }),
      )
      const checks = list(answer.checks)
      return {
        passed: answer.ok === true,
        lines: [
          `preflight: ${answer.ok === true ? 'PASSED' : 'NOT PASSED'}`,
          formatTable(
            ['check', 'result', 'severity', 'message'],
            checks.map((c) => [
              String(c.name),
              c.ok ? 'ok' : 'FAILED',
              String(c.severity ?? ''),
              String(c.message ?? ''),
            ]),
          ),
        ],
      }
    },
    async smoke(range, sessionId) {
      const answer = obj(
        await post('/rollout/smoke', {
          ...rangeBody(range),
          method: 'HEAD',
          profile: 'legacy',
          ...sessionField(sessionId),
        }),
      )
      const summary = obj(answer.summary)
      const errors = Object.entries(obj(summary.errors))
        .map(([name, count]) => `${name} ${String(count)}`)
        .join(', ')
      return {
        lines: [
          `smoke (HEAD/legacy, writes nothing): ${String(summary.checked ?? 0)} of ${String(summary.active_endpoints ?? '?')} active endpoint(s) checked: ${String(summary.up ?? 0)} up, ${String(summary.down ?? 0)} down, ${String(summary.unknown ?? 0)} unknown${errors ? ` (errors: ${errors})` : ''}`,
          ...list(answer.warnings).map((w) => `warning: ${String(w.message ?? JSON.stringify(w))}`),
          ...(Array.isArray(answer.warnings) ? answer.warnings.filter((w) => typeof w === 'string') : []).map(
            (w) => `warning: ${String(w)}`,
          ),
        ],
      }
    },
    async compare(range, sessionId) {
      const answer = obj(
        await post('/rollout/compare', {
          ...rangeBody(range),
          a: { method: 'HEAD', profile: 'legacy' },
          b: { method: 'GET', profile: 'simple_http' },
          ...sessionField(sessionId),
        }),
      )
      const summary = obj(answer.summary)
      const disagreements = list(answer.disagreements)
      return {
        lines: [
          `compare HEAD/legacy with GET/simple_http: ${String(summary.compared ?? 0)} endpoint(s), ${String(summary.agree ?? 0)} agree, ${String(summary.disagree ?? 0)} disagree (job ${String(answer.job_id ?? '?')}: jetmon2 api rollout compare-results ${String(answer.job_id ?? '')})`,
          ...(disagreements.length > 0
            ? [
                formatTable(
                  ['endpoint', 'blog', 'HEAD/legacy', 'GET/simple_http'],
                  disagreements
                    .slice(0, 20)
                    .map((d) => [String(d.endpoint_id), String(d.blog_id), String(d.a_verdict), String(d.b_verdict)]),
                ),
              ]
            : []),
        ],
      }
    },
    step(kind, body, phase, idempotencyKey) {
      return post(STEP_PATHS[kind], { ...body, ...phase }, idempotencyKey)
    },
    planSize(answer: DryRunAnswer) {
      const plan = obj(answer.plan)
      if (typeof plan.selected === 'number') return plan.selected
      if (typeof plan.restore === 'number') return plan.restore
      return null
    },
    describeResult(_kind, answer) {
      const result = obj(answer).result
      return result === undefined ? [] : [formatValue(result)]
    },
    activationTime(answer) {
      const at = obj(obj(answer).result).activated_at
      const time = typeof at === 'string' ? Date.parse(at) : Number.NaN
      return Number.isFinite(time) ? new Date(time) : null
    },
    releaseTime(answer) {
      const times = list(obj(obj(answer).result).locks)
        .map((lock) => (typeof lock.released_at === 'string' ? Date.parse(lock.released_at) : Number.NaN))
        .filter(Number.isFinite)
      return times.length > 0 ? new Date(Math.max(...times)) : null
    },
    async reconcile(range, since, sessionId) {
      const report = await reconcile(range, since, sessionId)
      return { passed: report.passed === true, lines: reconcileLines(report) }
    },
    async releaseGate(range, since) {
      const rows = statusRows(await get('/rollout/status'), range)
      const back = rows.length > 0 && rows.every((row) => ownerId(row.owner) === 'v1' && row.in_transition !== true)
      const report = await reconcile(range, since, null)
      const endpoints = num(report.endpoints) ?? 0
      const checkedSince = endpoints - (num(report.unchecked) ?? 0)
      return {
        passed: back && checkedSince === 0,
        lines: [
          `owners of buckets ${range.min}-${range.max} now:`,
          statusTable(rows),
          `Jetmon 2 checks in the range since ${since.toISOString()}: ${checkedSince} of ${endpoints} endpoint(s)${back ? '' : '; the range is not back with v1 yet'}`,
        ],
      }
    },
  }
}
