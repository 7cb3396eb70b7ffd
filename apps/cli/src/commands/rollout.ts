/**
 * `jetmon2 api rollout …`: one command per route of the rollout control plane, and `guided`.
 * Steps that change something dry-run by default and print the plan; `--execute` shows the plan,
 * asks for the step's typed confirmation (`--yes` in scripts) and executes it with the dry run's
 * token and an `Idempotency-Key`. Exit codes: docs/rollout.md (and {@link ROLLOUT_EXIT}).
 */
import type { RouteId } from '@jetmon/api-client'
import { CommandError } from '@jetmon/config'
import type { ArgsDef, CommandDef } from 'citty'
import { defineApiCommand } from '../_command.js'
import { resourceGroup } from '../_route-command.js'
import { checkSchema, type SchemaNode } from '../_schema.js'
import { requireRoute, type Session } from '../_session.js'
import { UsageError } from '../errors.js'
import { formatJson, formatTable, formatValue, terminalSafe } from '../output.js'
import { reconcileLines, statusTable } from '../rollout/api.js'
import { linePrompter } from '../rollout/prompter.js'
import { ROLLOUT_EXIT, RolloutHalt, runTwoPhase } from '../rollout/two-phase.js'
import { print } from './_shared.js'
import { bucketRange, guided, wholeNumber } from './rollout-guided.js'

type Json = Record<string, unknown>
const obj = (value: unknown): Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {}
const rows = (value: unknown): Json[] => (Array.isArray(value) ? value.map(obj) : [])

const RANGE_ARGS = {
  'bucket-min': { type: 'string', valueHint: 'n', required: true, description: 'First bucket of the range' },
  'bucket-max': { type: 'string', valueHint: 'n', required: true, description: 'Last bucket of the range' },
  'session-id': {
    type: 'string',
    valueHint: 'id',
    description: 'The rollout session the job belongs to (see rollout session list)',
  },
} as const satisfies ArgsDef

const EXECUTE_ARGS = {
  execute: {
    type: 'boolean',
    description: 'After the dry run, ask for the typed confirmation and execute the plan (default: dry run only)',
  },
  yes: {
    type: 'boolean',
    description: 'With --execute: do not ask for the confirmation (scripts that have checked the plan)',
  },
} as const satisfies ArgsDef

const POLICY = /^(GET|HEAD)\/(legacy|simple_http|full)$/

/** `GET/simple_http` → `{method: 'GET', profile: 'simple_http'}`. */
export function policyOf(flag: string, text: string | undefined): { method: string; profile: string } | undefined {
  if (text === undefined) return undefined
  const match = POLICY.exec(text.trim())
  if (!match)
    throw new UsageError(
      `--${flag}: must be METHOD/profile, METHOD one of GET, HEAD and profile one of legacy, simple_http, full (e.g. GET/simple_http), got ${JSON.stringify(text)}`,
    )
  return { method: match[1]!, profile: match[2]! }
}

const policyText = (policy: unknown) => {
  const p = obj(policy)
  return p.method ? `${String(p.method)}/${String(p.profile)}` : 'any'
}

/** The body of a range step from its flags. */
function rangeBody(args: Record<string, unknown>): Json {
  const range = bucketRange(args)
  const session = args['session-id']
  if (session !== undefined && !/^[1-9]\d{0,19}$/.test(String(session)))
    throw new UsageError(`--session-id: must be a session id, got ${JSON.stringify(session)}`)
  return {
    bucket_min: range.min,
    bucket_max: range.max,
    ...(session !== undefined ? { session_id: String(session) } : {}),
  }
}

/** Checks a body with the route's own schema, so a bad value is a usage error naming the field. */
async function checkBody(route: RouteId, body: unknown): Promise<void> {
  const issues = await checkSchema(requireRoute(route).body as SchemaNode | undefined, body)
  if (issues.length > 0)
    throw new UsageError(
      issues
        .map((i) => `${i.path ? `--${i.path.split('.')[0]!.replace(/_/g, '-')}` : 'body'}: ${i.message}`)
        .join('\n'),
    )
}

/** Prints a halt's envelope for a pipe, then ends the command with its exit code. */
function halted(session: Session, error: unknown): never {
  if (error instanceof RolloutHalt && session.format === 'json')
    print(formatJson({ error: error.envelope }, session.pretty))
  throw error
}

interface StepCommand {
  name: string
  route: RouteId
  description: string
  examples: readonly string[]
  args: ArgsDef
  /** The request body (without the two-phase fields) and path parameters. */
  request(args: Record<string, unknown>): { body: Json; params?: Record<string, string> }
  /** The typed confirmation and the plan's title. */
  phrase(body: Json, params: Record<string, string>): string
  title(body: Json, params: Record<string, string>): string
}

/** A two-phase step command (see the module comment). */
function stepCommand(spec: StepCommand): CommandDef {
  return defineApiCommand({
    name: spec.name,
    description: spec.description,
    examples: spec.examples,
    routes: [spec.route],
    writes: true,
    args: { ...spec.args, ...EXECUTE_ARGS } as ArgsDef,
    async run({ args: parsed, session }) {
      const args = parsed as Record<string, unknown>
      const { body, params = {} } = spec.request(args)
      await checkBody(spec.route, { ...body, dry_run: true })
      if (args.yes === true && args.execute !== true) throw new UsageError('--yes: only with --execute')
      const execute = args.execute === true
      // Every dry run records a job, so even a dry run is a write for --allow-remote.
      session.assertWritable(`rollout ${spec.name}`)
      const json = session.format === 'json'
      const prompter = linePrompter()
      try {
        const result = await runTwoPhase(
          {
            name: spec.name,
            title: spec.title(body, params),
            phrase: spec.phrase(body, params),
            send: async (phase, idempotencyKey) =>
              (await session.call(spec.route, { params, body: { ...body, ...phase } }, { idempotencyKey })).data,
          },
          {
            execute,
            yes: args.yes === true,
            prompter,
            // With JSON output the plan a person confirms goes to stderr; a pipe gets one document.
            show: (text) => (json ? (execute ? process.stderr.write(`${text}\n`) : undefined) : print(text)),
          },
        )
        if (json)
          print(
            formatJson(
              execute ? { dry_run: result.dryRun, execution: result.executed } : result.dryRun,
              session.pretty,
            ),
          )
        else if (result.executed !== undefined) {
          const executed = obj(result.executed)
          print(`\n${spec.title(body, params)}: executed (job ${String(executed.job_id ?? '?')})`)
          if (executed.result) print(formatValue(executed.result))
          const warnings = rows(executed.warnings)
          if (warnings.length > 0)
            print(warnings.map((w) => `warning: ${String(w.code)}: ${String(w.message)}`).join('\n'))
        } else if (result.dryRun.blocked.length === 0)
          print(`\ndry run only: nothing changed. To execute: the same command with --execute`)
        if (!execute && result.dryRun.blocked.length > 0)
          throw new RolloutHalt(
            'plan_blocked',
            `the plan is blocked (${result.dryRun.blocked.map((b) => b.code).join(', ')}): fix each blocker, then run it again`,
            ROLLOUT_EXIT.blocked,
          )
      } catch (error) {
        halted(session, error)
      } finally {
        prompter.close()
      }
    },
  })
}

/** A one-request command with its own table and, for a gate, exit code 3 when it does not pass. */
function checkCommand(spec: {
  name: string
  route: RouteId
  description: string
  examples: readonly string[]
  args: ArgsDef
  body(args: Record<string, unknown>): Json
  table(data: Json): string
  /** A gate's verdict: false exits 3. */
  passed?(data: Json): boolean
}): CommandDef {
  return defineApiCommand({
    name: spec.name,
    description: spec.description,
    examples: spec.examples,
    routes: [spec.route],
    writes: true,
    args: spec.args,
    async run({ args: parsed, session }) {
      const args = parsed as Record<string, unknown>
      const body = spec.body(args)
      await checkBody(spec.route, body)
      session.assertWritable(`rollout ${spec.name}`)
      const data = obj((await session.call(spec.route, { body })).data)
      print(session.format === 'json' ? formatJson(data, session.pretty) : terminalSafe(spec.table(data)))
      if (spec.passed && !spec.passed(data))
        throw new CommandError(`rollout ${spec.name}: not passed`, { exitCode: ROLLOUT_EXIT.blocked })
    },
  })
}

const range = (body: Json) => `${String(body.bucket_min)}-${String(body.bucket_max)}`

function statusText(data: unknown): string {
  const status = obj(data)
  const hosts = rows(status.hosts)
  const drift = obj(status.drift)
  return [
    `buckets 0-${Number(status.bucket_total) - 1} (BUCKET_TOTAL ${String(status.bucket_total)}), at ${String(status.generated_at)}`,
    statusTable(rows(status.ranges)),
    '',
    `HOSTS (${hosts.length})`,
    formatTable(
      ['host', 'mode', 'pinned', 'buckets', 'status', 'live', 'heartbeat', 'version'],
      hosts.map((h) => [
        String(h.host_id),
        String(h.mode),
        h.pinned ? 'yes' : 'no',
        h.bucket_min === null ? '' : `${String(h.bucket_min)}-${String(h.bucket_max)}`,
        String(h.status),
        h.live ? 'yes' : 'NO',
        String(h.heartbeat_at),
        String(h.version ?? ''),
      ]),
    ),
    '',
    `projection drift: ${String(drift.count)}${drift.capped ? '+ (counting stopped)' : ''} endpoint(s)`,
  ].join('\n')
}

const STAGE_COLUMNS = ['id', 'buckets', 'from', 'to', 'size', 'moved', 'restored', 'state', 'created_at', 'session']
function stagesText(data: unknown): string {
  return formatTable(
    STAGE_COLUMNS,
    rows(obj(data).data).map((s) => [
      String(s.id),
      `${String(s.bucket_min)}-${String(s.bucket_max)}`,
      policyText(s.from),
      policyText(s.to),
      String(s.size),
      String(s.moved),
      String(s.restored),
      String(s.state),
      String(s.created_at),
      String(s.session_id ?? ''),
    ]),
  )
}

function sessionText(data: unknown): string {
  const { jobs, ...session } = obj(data)
  const list = rows(jobs)
  return [
    formatValue(session),
    '',
    `JOBS (${list.length}, newest first)`,
    formatTable(
      ['id', 'step', 'dry run', 'outcome', 'error', 'actor', 'started_at'],
      list.map((j) => [
        String(j.id),
        String(j.step),
        j.dry_run ? 'yes' : 'no',
        String(j.outcome),
        String(j.error_code ?? ''),
        String(j.actor),
        String(j.started_at),
      ]),
    ),
  ].join('\n')
}

const session = resourceGroup('session', 'Rollout sessions: one migration’s jobs, named, for a range', {
  create: {
    name: 'create',
    route: 'rollout.createSession',
    examples: ['jetmon2 api rollout session create --name range-0-99 --bucket-min 0 --bucket-max 99'],
  },
  list: {
    name: 'list',
    route: 'rollout.listSessions',
    columns: ['id', 'name', 'bucket_min', 'bucket_max', 'state', 'created_by', 'created_at'],
    examples: ['jetmon2 api rollout session list', 'jetmon2 api rollout session list --state active'],
  },
  show: {
    name: 'show',
    route: 'rollout.getSession',
    params: { id: 'The session id' },
    table: sessionText,
    examples: ['jetmon2 api rollout session show 3 --jobs-limit 20'],
  },
  pause: {
    name: 'pause',
    route: 'rollout.pauseSession',
    params: { id: 'The session id' },
    examples: ['jetmon2 api rollout session pause 3'],
  },
  resume: {
    name: 'resume',
    route: 'rollout.resumeSession',
    params: { id: 'The session id' },
    examples: ['jetmon2 api rollout session resume 3'],
  },
})

const HOST_ARG = {
  host: { type: 'string', valueHint: 'host-id', required: true, description: 'HOST_ID of the api-controlled host' },
} as const satisfies ArgsDef

const preflight = checkCommand({
  name: 'preflight',
  route: 'rollout.preflight',
  description:
    'Read-only checks before a range moves to a host: database, host, ownership, verifliers, audit, projection',
  examples: ['jetmon2 api rollout preflight --bucket-min 0 --bucket-max 99 --host host-b'],
  args: { ...RANGE_ARGS, ...HOST_ARG },
  body: (args) => ({ ...rangeBody(args), host_id: String(args.host).trim() }),
  table: (data) =>
    [
      `preflight: ${data.ok ? 'PASSED' : 'NOT PASSED (a blocking check failed)'} (job ${String(data.job_id)})`,
      formatTable(
        ['check', 'result', 'severity', 'message'],
        rows(data.checks).map((c) => [String(c.name), c.ok ? 'ok' : 'FAILED', String(c.severity), String(c.message)]),
      ),
    ].join('\n'),
  passed: (data) => data.ok === true,
})

const SAMPLE_ARG = {
  sample: { type: 'string', valueHint: 'n', description: 'Endpoints to check, 1–500 (default 50)' },
} as const satisfies ArgsDef

const sampleOf = (args: Record<string, unknown>) =>
  args.sample === undefined ? {} : { sample: wholeNumber('sample', String(args.sample), { min: 1, max: 500 }) }

const smoke = checkCommand({
  name: 'smoke',
  route: 'rollout.smoke',
  description: 'Check a deterministic sample of a range now (default HEAD/legacy); writes nothing but its job',
  examples: [
    'jetmon2 api rollout smoke --bucket-min 0 --bucket-max 99',
    'jetmon2 api rollout smoke --bucket-min 0 --bucket-max 99 --policy GET/simple_http --sample 200 --verifliers',
  ],
  args: {
    ...RANGE_ARGS,
    ...SAMPLE_ARG,
    policy: { type: 'string', valueHint: 'METHOD/profile', description: 'Check policy (default HEAD/legacy)' },
    verifliers: { type: 'boolean', description: 'Also ask every configured veriflier' },
  },
  body: (args) => {
    const policy = policyOf('policy', args.policy as string | undefined)
    return {
      ...rangeBody(args),
      ...sampleOf(args),
      ...(policy ?? {}),
      ...(args.verifliers === true ? { verifliers: true } : {}),
    }
  },
  table: (data) => {
    const s = obj(data.summary)
    const errors = Object.entries(obj(s.errors))
      .map(([name, n]) => `${name} ${String(n)}`)
      .join(', ')
    return [
      `smoke ${policyText(data)} (job ${String(data.job_id)}): ${String(s.checked)} of ${String(s.active_endpoints)} active endpoint(s) checked: ${String(s.up)} up, ${String(s.down)} down, ${String(s.unknown)} unknown${errors ? ` (errors: ${errors})` : ''}`,
      formatTable(
        ['endpoint', 'blog', 'bucket', 'verdict', 'http', 'error', 'ms', 'url'],
        rows(data.verdicts).map((v) => [
          String(v.endpoint_id),
          String(v.blog_id),
          String(v.bucket_no),
          String(v.verdict),
          String(v.http_status ?? ''),
          String(v.error ?? ''),
          String(v.total_ms ?? ''),
          String(v.url),
        ]),
      ),
      ...(Array.isArray(data.warnings) ? data.warnings.map((w) => `warning: ${String(w)}`) : []),
    ].join('\n')
  },
})

const COMPARISON_COLUMNS = ['endpoint', 'blog', 'a', 'b', 'disagree', 'a error', 'b error']
const comparisonRow = (r: Json) => [
  String(r.endpoint_id),
  String(r.blog_id),
  String(r.a_verdict),
  String(r.b_verdict),
  r.disagree ? 'yes' : 'no',
  String(obj(r.a).error ?? ''),
  String(obj(r.b).error ?? ''),
]

const compare = checkCommand({
  name: 'compare',
  route: 'rollout.compare',
  description: 'Check a sample of a range under two policies; stores each row, prints the disagreements',
  examples: ['jetmon2 api rollout compare --bucket-min 0 --bucket-max 99 --a HEAD/legacy --b GET/simple_http'],
  args: {
    ...RANGE_ARGS,
    ...SAMPLE_ARG,
    a: { type: 'string', valueHint: 'METHOD/profile', description: 'Policy a (default HEAD/legacy)' },
    b: { type: 'string', valueHint: 'METHOD/profile', description: 'Policy b (default GET/simple_http)' },
  },
  body: (args) => ({
    ...rangeBody(args),
    ...sampleOf(args),
    a: policyOf('a', (args.a as string | undefined) ?? 'HEAD/legacy'),
    b: policyOf('b', (args.b as string | undefined) ?? 'GET/simple_http'),
  }),
  table: (data) => {
    const s = obj(data.summary)
    return [
      `compare ${policyText(data.a)} with ${policyText(data.b)} (job ${String(data.job_id)}): ${String(s.compared)} endpoint(s), ${String(s.agree)} agree, ${String(s.disagree)} disagree`,
      formatTable(COMPARISON_COLUMNS, rows(data.disagreements).map(comparisonRow)),
      ...(Array.isArray(data.warnings) ? data.warnings.map((w) => `warning: ${String(w)}`) : []),
      `every row: jetmon2 api rollout compare-results ${String(data.job_id)}`,
    ].join('\n')
  },
})

const reconcile = checkCommand({
  name: 'reconcile',
  route: 'rollout.reconcile',
  description:
    'The gate after a handoff: every active endpoint checked since --since, no projection drift, no lock in transition',
  examples: [
    'jetmon2 api rollout reconcile --bucket-min 0 --bucket-max 99',
    'jetmon2 api rollout reconcile --bucket-min 0 --bucket-max 99 --since 2026-05-01T22:00:00Z',
  ],
  args: {
    ...RANGE_ARGS,
    since: { type: 'string', valueHint: 'timestamp', description: 'RFC 3339 time (default 15 minutes ago)' },
  },
  body: (args) => ({ ...rangeBody(args), ...(args.since !== undefined ? { since: String(args.since) } : {}) }),
  table: (data) => reconcileLines(data).join('\n'),
  passed: (data) => data.passed === true,
})

const adopt = stepCommand({
  name: 'adopt',
  route: 'rollout.adopt',
  description: 'Two-phase: open Jetmon 2 incidents for what v1 reports failing in the range (no second Down notice)',
  examples: [
    'jetmon2 api rollout adopt --bucket-min 0 --bucket-max 99',
    'jetmon2 api rollout adopt --bucket-min 0 --bucket-max 99 --execute',
  ],
  args: RANGE_ARGS,
  request: (args) => ({ body: rangeBody(args) }),
  phrase: (body) => `ADOPT ${range(body)}`,
  title: (body) => `adopt v1 state of buckets ${range(body)}`,
})

const activate = stepCommand({
  name: 'activate',
  route: 'rollout.activate',
  description: 'Two-phase: hand the range to an api-controlled host (stop v1 for it first)',
  examples: [
    'jetmon2 api rollout activate --bucket-min 0 --bucket-max 99 --host host-b',
    'jetmon2 api rollout activate --bucket-min 0 --bucket-max 99 --host host-b --execute',
  ],
  args: { ...RANGE_ARGS, ...HOST_ARG },
  request: (args) => ({ body: { ...rangeBody(args), host_id: String(args.host).trim() } }),
  phrase: (body) => `ACTIVATE ${range(body)} ${String(body.host_id)}`,
  title: (body) => `activate buckets ${range(body)} on ${String(body.host_id)}`,
})

const release = stepCommand({
  name: 'release',
  route: 'rollout.release',
  description: 'Two-phase: the rollback to v1 — the host drains the range and acknowledges (start v1 for it after)',
  examples: [
    'jetmon2 api rollout release --bucket-min 0 --bucket-max 99',
    'jetmon2 api rollout release --bucket-min 0 --bucket-max 99 --execute --wait-sec 60',
  ],
  args: {
    ...RANGE_ARGS,
    'wait-sec': {
      type: 'string',
      valueHint: 'seconds',
      description: 'How long the execution waits for the acknowledgement, 0–300 (default 30)',
    },
  },
  request: (args) => ({
    body: {
      ...rangeBody(args),
      ...(args['wait-sec'] !== undefined
        ? { wait_sec: wholeNumber('wait-sec', String(args['wait-sec']), { min: 0, max: 300 }) }
        : {}),
    },
  }),
  phrase: (body) => `RELEASE ${range(body)}`,
  title: (body) => `release buckets ${range(body)}`,
})

const stage = stepCommand({
  name: 'stage',
  route: 'rollout.createPolicyStage',
  description: 'Two-phase: move --size endpoints of the range (on --from, lowest id first) to the --to check policy',
  examples: [
    'jetmon2 api rollout stage --bucket-min 0 --bucket-max 99 --from HEAD/legacy --to GET/simple_http --size 10',
    'jetmon2 api rollout stage --bucket-min 0 --bucket-max 99 --from HEAD/legacy --to GET/simple_http --size 10 --execute',
  ],
  args: {
    ...RANGE_ARGS,
    to: {
      type: 'string',
      valueHint: 'METHOD/profile',
      required: true,
      description: 'The new policy (GET/simple_http)',
    },
    from: {
      type: 'string',
      valueHint: 'METHOD/profile',
      description: 'Only endpoints on this policy (default: every one not on --to)',
    },
    size: { type: 'string', valueHint: 'n', required: true, description: 'How many endpoints this stage moves' },
  },
  request: (args) => {
    const from = policyOf('from', args.from as string | undefined)
    return {
      body: {
        ...rangeBody(args),
        to: policyOf('to', String(args.to)),
        ...(from ? { from } : {}),
        size: wholeNumber('size', String(args.size), { min: 1, max: 1_000_000 }),
      },
    }
  },
  phrase: (body) => `STAGE ${range(body)} ${policyText(body.to)} ${String(body.size)}`,
  title: (body) => `policy stage of buckets ${range(body)}: ${String(body.size)} endpoint(s) to ${policyText(body.to)}`,
})

const stageRollback = stepCommand({
  name: 'stage-rollback',
  route: 'rollout.rollbackPolicyStage',
  description: "Two-phase: restore one policy stage's previous values (endpoints changed since are skipped)",
  examples: ['jetmon2 api rollout stage-rollback 12', 'jetmon2 api rollout stage-rollback 12 --execute'],
  args: {
    id: { type: 'positional', required: true, description: 'The policy stage id (see rollout stages)' },
    'session-id': RANGE_ARGS['session-id'],
  },
  request: (args) => {
    const id = String(args.id)
    if (!/^[1-9]\d{0,19}$/.test(id)) throw new UsageError(`ID: must be a policy stage id, got ${JSON.stringify(id)}`)
    const sessionId = args['session-id']
    return { params: { id }, body: sessionId !== undefined ? { session_id: String(sessionId) } : {} }
  },
  phrase: (_body, params) => `ROLLBACK STAGE ${params.id}`,
  title: (_body, params) => `roll back policy stage ${params.id}`,
})

const rollbackAll = stepCommand({
  name: 'rollback-all',
  route: 'rollout.rollbackAllPolicyStages',
  description: 'Two-phase: roll back every applied policy stage of the range, newest first',
  examples: [
    'jetmon2 api rollout rollback-all --bucket-min 0 --bucket-max 99',
    'jetmon2 api rollout rollback-all --bucket-min 0 --bucket-max 99 --execute',
  ],
  args: RANGE_ARGS,
  request: (args) => ({ body: rangeBody(args) }),
  phrase: (body) => `ROLLBACK STAGES ${range(body)}`,
  title: (body) => `roll back every policy stage of buckets ${range(body)}`,
})

/** `jetmon2 api rollout …`. */
export default resourceGroup('rollout', 'Move bucket ranges between v1 and Jetmon 2, and back (admin key)', {
  capabilities: {
    name: 'capabilities',
    route: 'rollout.capabilities',
    examples: ['jetmon2 api rollout capabilities'],
  },
  status: {
    name: 'status',
    route: 'rollout.status',
    table: statusText,
    examples: ['jetmon2 api rollout status', 'jetmon2 api rollout status --output json | jq .ranges'],
  },
  session,
  preflight,
  smoke,
  compare,
  'compare-results': {
    name: 'compare-results',
    route: 'rollout.compareResults',
    params: { job_id: 'The compare job id (printed by rollout compare)' },
    table: (data) => formatTable(COMPARISON_COLUMNS, rows(obj(data).data).map(comparisonRow)),
    examples: ['jetmon2 api rollout compare-results 41 --disagreements true --all'],
  },
  adopt,
  activate,
  release,
  reconcile,
  stage,
  stages: {
    name: 'stages',
    route: 'rollout.listPolicyStages',
    table: stagesText,
    examples: ['jetmon2 api rollout stages --bucket-min 0 --bucket-max 99'],
  },
  'stage-rollback': stageRollback,
  'rollback-all': rollbackAll,
  guided,
})
