/**
 * `jetmon2 api rollout guided`: a state machine over the rollout steps. Forward: identity and
 * status → preflight → smoke → [compare] → adopt → checkpoint "v1 stopped" → activate → first
 * checks → reconcile → [policy stages]. Rollback: [policy stage rollback] → release → release gate
 * → checkpoint "v1 started". Every input and output goes through {@link GuidedIo} (the API as a
 * {@link RolloutPort}, a prompter, a store, a clock), so a test drives a whole run with scripted
 * answers.
 *
 * Safety rules it keeps: every change is a dry run first, shown, then typed; an execution without
 * the dry run's token is never sent; each execution carries an `Idempotency-Key` made of the run,
 * the session and the step, and the key and token are saved before it is sent, so a run resumed
 * after a lost answer sends the same request again and the server applies it once.
 */
import { randomBytes } from 'node:crypto'
import type { GuidedStore } from './journal.js'
import type { Prompter } from './prompter.js'
import {
  type DryRunAnswer,
  dryRunText,
  isRefusal,
  REFUSAL_HINTS,
  ROLLOUT_EXIT,
  readDryRun,
  sendWithRetries,
} from './two-phase.js'

/** A contiguous bucket range. */
export interface BucketRange {
  min: number
  max: number
}

/** What a gate answered: whether it passed, and what to show. */
export interface GateResult {
  passed: boolean
  lines: string[]
}

/** The two-phase steps guided runs. */
export type TwoPhaseKind = 'adopt' | 'activate' | 'release' | 'stage' | 'rollback-all'

/**
 * The rollout API as guided needs it. The implementation over the REST API is
 * `restRolloutPort` (api.ts); answers are reduced to what a person reads and what the machine decides on.
 */
export interface RolloutPort {
  /** The calling key. */
  identity(): Promise<{ consumer: string; scope: string; lines: string[] }>
  capabilities(): Promise<{ bucketTotal: number | null; lines: string[] }>
  /** Who owns the range now: `v1`, a host id, or `null` when the range is split between owners. */
  rangeStatus(range: BucketRange): Promise<{ owner: string | null; inTransition: boolean; lines: string[] }>
  /** The session of this name and range (created when there is none); its id. */
  openSession(name: string, range: BucketRange): Promise<string>
  preflight(range: BucketRange, host: string, sessionId: string | null): Promise<GateResult>
  smoke(range: BucketRange, sessionId: string | null): Promise<{ lines: string[] }>
  compare(range: BucketRange, sessionId: string | null): Promise<{ lines: string[] }>
  /** One phase of a two-phase step: the raw answer. */
  step(
    kind: TwoPhaseKind,
    body: Record<string, unknown>,
    phase: { dry_run: boolean; confirmation_token?: string },
    idempotencyKey?: string,
  ): Promise<unknown>
  /** How many endpoints a dry run's plan touches, when it says (policy stages stop at zero). */
  planSize(answer: DryRunAnswer): number | null
  /** A short account of an execution's answer. */
  describeResult(kind: TwoPhaseKind, answer: unknown): string[]
  /** When the host acknowledged a release, from the release's answer (null: not within its wait). */
  releaseTime(answer: unknown): Date | null
  /** When the lock was made, in the API's clock, from the activation's answer. */
  activationTime(answer: unknown): Date | null
  /** The post-handoff gate: every active endpoint checked since `since`, no drift, no lock in transition. */
  reconcile(range: BucketRange, since: Date, sessionId: string | null): Promise<GateResult>
  /** The rollback gate: the range back with v1 and no v2 check in it since `since`. */
  releaseGate(range: BucketRange, since: Date): Promise<GateResult>
}

export interface GuidedOptions {
  range: BucketRange
  host: string
  /** The session name (resume file, transcript and API session). */
  session: string
  rollback: boolean
  includeComparison: boolean
  includePolicyMigration: boolean
  dryRun: boolean
  /** Endpoints per policy stage. */
  stageSize: number
  /** How long the host may take to take up an activation, and the range to get its first checks. */
  firstChecksTimeoutMs: number
  /** How long the host may take to drain a release. */
  releaseTimeoutMs: number
  /** Between two polls of a wait. */
  pollMs: number
}

export interface GuidedIo {
  api: RolloutPort
  prompter: Prompter
  store: GuidedStore
  /** Shows a line (or lines) to the operator. */
  out(text: string): void
  clock?: () => Date
  sleep?: (ms: number) => Promise<void>
}

export type StepName =
  | 'identity'
  | 'preflight'
  | 'smoke'
  | 'compare'
  | 'adopt'
  | 'v1-stopped'
  | 'activate'
  | 'first-checks'
  | 'reconcile'
  | 'policy-stages'
  | 'rollback-stages'
  | 'release'
  | 'release-gate'
  | 'v1-started'

export type Direction = 'forward' | 'rollback'

/** What the resume file holds. */
export interface GuidedState {
  version: 1
  /** A random id of this run, part of every idempotency key (a new run never replays an old one's answers). */
  run: string
  session: string
  range: BucketRange
  host: string
  direction: Direction
  step: StepName
  sessionId: string | null
  activatedAt: string | null
  releasedAt: string | null
  /** Policy stages applied by this run. */
  stages: number
  /** An execution sent and not known to have been answered: sent again as it was on resume. */
  pending: { step: string; token: string; idempotencyKey: string; body: Record<string, unknown> } | null
  /** Fresh dry runs per step after a refused execution (a new token needs a new key). */
  attempts: Record<string, number>
  updatedAt: string
}

export interface GuidedResult {
  exitCode: number
  /** `completed`, `planned` (dry run), or why it stopped: `not_confirmed`, `gate_failed`, `blocked`, … */
  outcome: string
  step: StepName | null
}

type Outcome =
  | { kind: 'next' }
  | { kind: 'retry' }
  | { kind: 'rollback' }
  | { kind: 'halt'; code: string; exitCode: number; message: string }

interface Step {
  title: string
  /** What a dry run of the whole flow prints for this step. */
  plan(o: GuidedOptions): string[]
  run(r: Run): Promise<Outcome>
}

const FORWARD: readonly StepName[] = [
  'identity',
  'preflight',
  'smoke',
  'compare',
  'adopt',
  'v1-stopped',
  'activate',
  'first-checks',
  'reconcile',
  'policy-stages',
]
const ROLLBACK: readonly StepName[] = ['identity', 'rollback-stages', 'release', 'release-gate', 'v1-started']

/** The steps of a direction, for these options. */
export function stepsOf(direction: Direction, o: Pick<GuidedOptions, 'includeComparison' | 'includePolicyMigration'>) {
  return (direction === 'forward' ? FORWARD : ROLLBACK).filter(
    (step) =>
      (step !== 'compare' || o.includeComparison) &&
      ((step !== 'policy-stages' && step !== 'rollback-stages') || o.includePolicyMigration),
  )
}

const rangeText = (range: BucketRange) => `${range.min}-${range.max}`

/** The typed confirmations, by step. */
export const phrases = {
  adopt: (o: GuidedOptions) => `ADOPT ${rangeText(o.range)}`,
  v1Stopped: (o: GuidedOptions) => `V1 STOPPED ${rangeText(o.range)}`,
  activate: (o: GuidedOptions) => `ACTIVATE ${rangeText(o.range)} ${o.host}`,
  stage: (o: GuidedOptions) => `STAGE ${rangeText(o.range)} GET/simple_http ${o.stageSize}`,
  rollbackStages: (o: GuidedOptions) => `ROLLBACK STAGES ${rangeText(o.range)}`,
  release: (o: GuidedOptions) => `RELEASE ${rangeText(o.range)}`,
  v1Started: (o: GuidedOptions) => `V1 STARTED ${rangeText(o.range)}`,
}

class Run {
  readonly clock: () => Date
  readonly sleep: (ms: number) => Promise<void>
  constructor(
    readonly options: GuidedOptions,
    readonly io: GuidedIo,
    public state: GuidedState,
  ) {
    this.clock = io.clock ?? (() => new Date())
    this.sleep = io.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)))
  }

  get api() {
    return this.io.api
  }

  say(text: string) {
    this.io.out(text)
    if (!this.options.dryRun) this.io.store.record(text)
  }

  async ask(question: string): Promise<string | null> {
    const answer = await this.io.prompter.ask(question)
    if (!this.options.dryRun) this.io.store.record(`? ${question.trim()} → ${answer === null ? '(no answer)' : answer}`)
    return answer === null ? null : answer.trim()
  }

  /** Asks until one of `choices` is typed (three tries); `null` when none was. */
  async choose(question: string, choices: readonly string[]): Promise<string | null> {
    for (let tries = 0; tries < 3; tries++) {
      const answer = await this.ask(question)
      if (answer === null) return null
      const match = choices.find((choice) => choice === answer.toUpperCase())
      if (match) return match
      this.say(`please type one of: ${choices.join(', ')}`)
    }
    return null
  }

  save() {
    if (this.options.dryRun) return
    this.state.updatedAt = this.clock().toISOString()
    this.io.store.save(this.state)
  }

  body(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      bucket_min: this.options.range.min,
      bucket_max: this.options.range.max,
      ...extra,
      ...(this.state.sessionId !== null ? { session_id: this.state.sessionId } : {}),
    }
  }

  idempotencyKey(step: string): string {
    const attempt = this.state.attempts[step] ?? 0
    return `jetmon2-guided-${this.state.run}-s${this.state.sessionId ?? 'none'}-${step}-${attempt}`
  }
}

const halt = (code: string, exitCode: number, message: string): Outcome => ({ kind: 'halt', code, exitCode, message })

/**
 * A gate that did not pass: retry it, roll back (once the range was activated), or stop here
 * (the resume file keeps the place).
 */
async function gateFailed(r: Run, what: string, allowRollback: boolean): Promise<Outcome> {
  const choices = allowRollback ? ['RETRY', 'ROLLBACK', 'STOP'] : ['RETRY', 'STOP']
  r.say(
    `${what} did not pass. ` +
      (allowRollback
        ? 'RETRY checks again; ROLLBACK releases the range back to v1 (guided); STOP leaves everything as it is now (resume later).'
        : 'RETRY checks again; STOP leaves everything as it is now (nothing of this range has moved to Jetmon 2; resume later).'),
  )
  const answer = await r.choose(`Type ${choices.join(', ')}: `, choices)
  if (answer === 'RETRY') return { kind: 'retry' }
  if (answer === 'ROLLBACK') return { kind: 'rollback' }
  return halt('gate_failed', ROLLOUT_EXIT.blocked, `stopped: ${what} did not pass`)
}

/** A typed checkpoint: the operator confirms something done outside Jetmon 2. */
async function checkpoint(r: Run, lines: string[], phrase: string): Promise<Outcome> {
  r.say(lines.join('\n'))
  const answer = await r.ask(`Type ${phrase} when this is done (anything else stops here; run again to resume): `)
  if (answer === phrase) return { kind: 'next' }
  return halt('not_confirmed', ROLLOUT_EXIT.notConfirmed, `stopped at the checkpoint: the answer was not ${phrase}`)
}

/** One two-phase step inside the flow (see the module comment for the rules it keeps). */
async function twoPhase(
  r: Run,
  spec: { step: string; kind: TwoPhaseKind; title: string; phrase: string; body: Record<string, unknown> },
  after: { allowRollback: boolean; skipWhenEmpty?: boolean; onApplied?: (answer: unknown) => void },
): Promise<Outcome & { applied?: boolean }> {
  const execute = async (token: string, key: string, body: Record<string, unknown>) => {
    const answer = await sendWithRetries(() =>
      r.api.step(spec.kind, body, { dry_run: false, confirmation_token: token }, key),
    )
    r.state.pending = null
    r.save()
    r.say([`${spec.title}: done`, ...r.api.describeResult(spec.kind, answer)].join('\n'))
    after.onApplied?.(answer)
    return answer
  }
  const refused = async (error: unknown): Promise<Outcome> => {
    if (!isRefusal(error)) throw error
    r.state.pending = null
    r.state.attempts[spec.step] = (r.state.attempts[spec.step] ?? 0) + 1
    r.save()
    r.say(`${spec.title}: refused by the API, ${error.code}: ${error.message}\n  ${REFUSAL_HINTS[error.code] ?? ''}`)
    const outcome = await gateFailed(r, spec.title, after.allowRollback)
    return outcome.kind === 'halt' ? halt(error.code, ROLLOUT_EXIT.confirmationRefused, outcome.message) : outcome
  }

  const pending = r.state.pending
  if (pending && pending.step === spec.step) {
    r.say(
      `${spec.title}: an execution was sent earlier and its answer never arrived; sending the very same request again (same Idempotency-Key: the API applies it once)`,
    )
    try {
      await execute(pending.token, pending.idempotencyKey, pending.body)
      return { kind: 'next', applied: true }
    } catch (error) {
      return refused(error)
    }
  }

  const dryRun = readDryRun(await r.api.step(spec.kind, spec.body, { dry_run: true }), spec.title)
  r.say(dryRunText(dryRun, spec.title))
  if (after.skipWhenEmpty && r.api.planSize(dryRun) === 0) {
    r.say(`${spec.title}: nothing to do`)
    return { kind: 'next', applied: false }
  }
  if (dryRun.blocked.length > 0) return gateFailed(r, `${spec.title} (the plan is blocked)`, after.allowRollback)
  const token = dryRun.confirmation_token
  // Fail closed: without the token of the plan just shown, nothing is sent.
  if (!token)
    return halt(
      'token_missing',
      ROLLOUT_EXIT.failure,
      `${spec.title}: the dry run answered no confirmation token, so nothing is executed`,
    )
  const answer = await r.ask(`Type ${spec.phrase} to execute it (anything else stops here; run again to resume): `)
  if (answer !== spec.phrase)
    return halt('not_confirmed', ROLLOUT_EXIT.notConfirmed, `not confirmed (the answer was not ${spec.phrase})`)
  const key = r.idempotencyKey(spec.step)
  r.state.pending = { step: spec.step, token, idempotencyKey: key, body: spec.body }
  r.save()
  try {
    await execute(token, key, spec.body)
    return { kind: 'next', applied: true }
  } catch (error) {
    return refused(error)
  }
}

/** Polls `check` until it passes or `timeoutMs` passes; shows each answer that differs from the last. */
async function waitFor(r: Run, what: string, timeoutMs: number, check: () => Promise<GateResult>): Promise<GateResult> {
  const deadline = r.clock().getTime() + timeoutMs
  let shown = ''
  for (;;) {
    const result = await check()
    const text = result.lines.join('\n')
    if (result.passed || r.clock().getTime() >= deadline) {
      if (text !== shown) r.say(text)
      return result
    }
    if (text !== shown) r.say(`${text}\n(waiting: ${what}; polling every ${Math.round(r.options.pollMs / 1000)} s)`)
    shown = text
    await r.sleep(r.options.pollMs)
  }
}

const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`

export const STEPS: Record<StepName, Step> = {
  identity: {
    title: 'API, identity and current owner of the range',
    plan: (o) => [
      'GET /me (the key must have admin scope), GET /rollout/capabilities, GET /rollout/status',
      `shows who owns buckets ${rangeText(o.range)} now${o.dryRun ? '' : `; opens the rollout session ${o.session}`}`,
    ],
    async run(r) {
      const me = await r.api.identity()
      r.say(me.lines.join('\n'))
      if (me.scope !== 'admin')
        return halt(
          'not_admin',
          ROLLOUT_EXIT.blocked,
          `rollout steps need an admin key; this key (${me.consumer}) has scope ${me.scope}. Use an admin key's token file (--token-file).`,
        )
      const caps = await r.api.capabilities()
      r.say(caps.lines.join('\n'))
      if (caps.bucketTotal !== null && r.options.range.max >= caps.bucketTotal)
        return halt(
          'range_outside',
          ROLLOUT_EXIT.blocked,
          `buckets ${rangeText(r.options.range)} go past BUCKET_TOTAL ${caps.bucketTotal} (the last bucket is ${caps.bucketTotal - 1})`,
        )
      const status = await r.api.rangeStatus(r.options.range)
      r.say(status.lines.join('\n'))
      if (!r.options.dryRun && r.state.sessionId === null) {
        r.state.sessionId = await r.api.openSession(r.options.session, r.options.range)
        r.say(`rollout session ${r.options.session}: id ${r.state.sessionId}`)
      }
      return { kind: 'next' }
    },
  },
  preflight: {
    title: 'Preflight (read-only checks)',
    plan: (o) => [
      `POST /rollout/preflight {bucket_min: ${o.range.min}, bucket_max: ${o.range.max}, host_id: ${o.host}}`,
      `database migrated; ${o.host} registered in api-controlled mode with a fresh heartbeat; no other owner of the range; verifliers and quorum; no blocking audit finding; projection enabled`,
      'if it fails: RETRY or STOP',
    ],
    async run(r) {
      const gate = await r.api.preflight(r.options.range, r.options.host, r.state.sessionId)
      r.say(gate.lines.join('\n'))
      return gate.passed ? { kind: 'next' } : gateFailed(r, 'preflight', false)
    },
  },
  smoke: {
    title: 'Smoke check (HEAD, legacy profile; writes nothing but its job)',
    plan: (o) => [
      `POST /rollout/smoke {bucket_min: ${o.range.min}, bucket_max: ${o.range.max}, method: HEAD, profile: legacy}`,
      'checks a sample of the range now and shows each verdict; no events, no notices',
    ],
    async run(r) {
      const smoke = await r.api.smoke(r.options.range, r.state.sessionId)
      r.say(smoke.lines.join('\n'))
      return { kind: 'next' }
    },
  },
  compare: {
    title: 'Compare HEAD/legacy with GET/simple_http',
    plan: (o) => [
      `POST /rollout/compare {bucket_min: ${o.range.min}, bucket_max: ${o.range.max}, a: HEAD/legacy, b: GET/simple_http}`,
      'shows the endpoints on which the two policies disagree',
    ],
    async run(r) {
      const compare = await r.api.compare(r.options.range, r.state.sessionId)
      r.say(compare.lines.join('\n'))
      return { kind: 'next' }
    },
  },
  adopt: {
    title: 'Adopt v1 state',
    plan: (o) => [
      `POST /rollout/adopt (dry run, then execute): opens an incident for each endpoint v1 saw failing (site_status 0 or 2), so no Down notice is sent twice and no recovery is lost`,
      `confirmation: ${phrases.adopt(o)}`,
    ],
    async run(r) {
      const o = r.options
      return twoPhase(
        r,
        {
          step: 'adopt',
          kind: 'adopt',
          title: `adopt v1 state of buckets ${rangeText(o.range)}`,
          phrase: phrases.adopt(o),
          body: r.body(),
        },
        { allowRollback: false },
      )
    },
  },
  'v1-stopped': {
    title: 'Checkpoint: stop v1 for this range',
    plan: (o) => [`you stop the v1 hosts checking buckets ${rangeText(o.range)}, then type ${phrases.v1Stopped(o)}`],
    async run(r) {
      const o = r.options
      return checkpoint(
        r,
        [
          `Now stop v1 for buckets ${rangeText(o.range)}: the v1 hosts whose bucket range covers them must stop checking them`,
          '(narrow their range in their configuration and restart them, or stop those hosts).',
          'Until the next step nobody checks these buckets; keep this gap short.',
        ],
        phrases.v1Stopped(o),
      )
    },
  },
  activate: {
    title: 'Activate the range on the Jetmon 2 host',
    plan: (o) => [
      `POST /rollout/activate {bucket_min: ${o.range.min}, bucket_max: ${o.range.max}, host_id: ${o.host}} (dry run, then execute)`,
      `confirmation: ${phrases.activate(o)}`,
    ],
    async run(r) {
      const o = r.options
      return twoPhase(
        r,
        {
          step: 'activate',
          kind: 'activate',
          title: `activate buckets ${rangeText(o.range)} on ${o.host}`,
          phrase: phrases.activate(o),
          body: r.body({ host_id: o.host }),
        },
        {
          allowRollback: false,
          onApplied: (answer) => {
            // The API's time, not this machine's: the checks it waits for are stamped by the monitor.
            r.state.activatedAt = (r.api.activationTime(answer) ?? r.clock()).toISOString()
          },
        },
      )
    },
  },
  'first-checks': {
    title: 'Wait for the first checks',
    plan: (o) => [
      `polls GET /rollout/status until ${o.host} owns the range, then POST /rollout/reconcile until every active endpoint was checked since the activation (at most ${minutes(o.firstChecksTimeoutMs)})`,
      'if it times out: RETRY, ROLLBACK or STOP',
    ],
    async run(r) {
      const o = r.options
      const since = new Date(r.state.activatedAt ?? r.clock().toISOString())
      const owned = await waitFor(r, `${o.host} takes up the range`, o.firstChecksTimeoutMs, async () => {
        const status = await r.api.rangeStatus(o.range)
        return { passed: status.owner === o.host && !status.inTransition, lines: status.lines }
      })
      if (!owned.passed) return gateFailed(r, `${o.host} taking up buckets ${rangeText(o.range)}`, true)
      const checked = await waitFor(r, 'every endpoint gets its first check', o.firstChecksTimeoutMs, () =>
        r.api.reconcile(o.range, since, r.state.sessionId),
      )
      return checked.passed ? { kind: 'next' } : gateFailed(r, 'the first checks', true)
    },
  },
  reconcile: {
    title: 'Reconcile (the post-handoff gate)',
    plan: () => [
      'POST /rollout/reconcile since the activation: every active endpoint checked, projection drift zero, no lock in transition',
      'if it fails: RETRY, ROLLBACK or STOP',
    ],
    async run(r) {
      const since = new Date(r.state.activatedAt ?? r.clock().toISOString())
      const gate = await r.api.reconcile(r.options.range, since, r.state.sessionId)
      r.say(gate.lines.join('\n'))
      return gate.passed ? { kind: 'next' } : gateFailed(r, 'reconcile', true)
    },
  },
  'policy-stages': {
    title: 'Policy stages: HEAD/legacy → GET/simple_http',
    plan: (o) => [
      `POST /rollout/policy-stages {to: GET/simple_http, from: HEAD/legacy, size: ${o.stageSize}} (dry run, then execute), stage after stage`,
      `confirmation: ${phrases.stage(o)}; after each stage: NEXT STAGE or DONE`,
    ],
    async run(r) {
      const o = r.options
      for (;;) {
        const n = r.state.stages + 1
        const outcome = await twoPhase(
          r,
          {
            step: `stage-${n}`,
            kind: 'stage',
            title: `policy stage ${n} of buckets ${rangeText(o.range)}: ${o.stageSize} endpoint(s) to GET/simple_http`,
            phrase: phrases.stage(o),
            body: r.body({
              from: { method: 'HEAD', profile: 'legacy' },
              to: { method: 'GET', profile: 'simple_http' },
              size: o.stageSize,
            }),
          },
          { allowRollback: true, skipWhenEmpty: true },
        )
        if (outcome.kind !== 'next') return outcome
        if (!outcome.applied) return { kind: 'next' }
        r.state.stages = n
        r.save()
        const answer = await r.choose('Type NEXT STAGE for another stage, or DONE: ', ['NEXT STAGE', 'DONE'])
        if (answer === 'DONE') return { kind: 'next' }
        if (answer === null) return halt('not_confirmed', ROLLOUT_EXIT.notConfirmed, 'stopped between policy stages')
      }
    },
  },
  'rollback-stages': {
    title: 'Roll back the policy stages of the range',
    plan: (o) => [
      `POST /rollout/policy-stages/rollback-all {bucket_min: ${o.range.min}, bucket_max: ${o.range.max}} (dry run, then execute; skipped when there is none)`,
      `confirmation: ${phrases.rollbackStages(o)}`,
    ],
    async run(r) {
      const o = r.options
      return twoPhase(
        r,
        {
          step: 'rollback-stages',
          kind: 'rollback-all',
          title: `roll back every policy stage of buckets ${rangeText(o.range)}`,
          phrase: phrases.rollbackStages(o),
          body: r.body(),
        },
        { allowRollback: false, skipWhenEmpty: true },
      )
    },
  },
  release: {
    title: 'Release the range (the rollback to v1)',
    plan: (o) => [
      `POST /rollout/release {bucket_min: ${o.range.min}, bucket_max: ${o.range.max}} (dry run, then execute): the host drains the range and acknowledges`,
      `confirmation: ${phrases.release(o)}`,
    ],
    async run(r) {
      const o = r.options
      return twoPhase(
        r,
        {
          step: 'release',
          kind: 'release',
          title: `release buckets ${rangeText(o.range)}`,
          phrase: phrases.release(o),
          body: r.body(),
        },
        {
          allowRollback: false,
          onApplied: (answer) => {
            // No Jetmon 2 check may start after the host acknowledged the drain; until it has, after now.
            r.state.releasedAt = (r.api.releaseTime(answer) ?? r.clock()).toISOString()
          },
        },
      )
    },
  },
  'release-gate': {
    title: 'Release gate: no Jetmon 2 check in the range since the release',
    plan: (o) => [
      `polls until the range is back with v1 and no Jetmon 2 check ran in it since the release (at most ${minutes(o.releaseTimeoutMs)})`,
      'if it fails: RETRY or STOP',
    ],
    async run(r) {
      const since = new Date(r.state.releasedAt ?? r.clock().toISOString())
      const gate = await waitFor(r, 'the host drains the range', r.options.releaseTimeoutMs, () =>
        r.api.releaseGate(r.options.range, since),
      )
      return gate.passed ? { kind: 'next' } : gateFailed(r, 'the release gate', false)
    },
  },
  'v1-started': {
    title: 'Checkpoint: start v1 for this range',
    plan: (o) => [`you start v1 checking buckets ${rangeText(o.range)} again, then type ${phrases.v1Started(o)}`],
    async run(r) {
      const o = r.options
      return checkpoint(
        r,
        [
          `Now start v1 for buckets ${rangeText(o.range)} again: give the range back to the v1 hosts that owned it`,
          '(restore their bucket range and restart them). Jetmon 2 no longer checks it.',
        ],
        phrases.v1Started(o),
      )
    },
  },
}

/** A fresh state for these options. */
export function freshState(o: GuidedOptions, now: Date): GuidedState {
  const direction: Direction = o.rollback ? 'rollback' : 'forward'
  return {
    version: 1,
    run: randomBytes(4).toString('hex'),
    session: o.session,
    range: { ...o.range },
    host: o.host,
    direction,
    step: stepsOf(direction, o)[0]!,
    sessionId: null,
    activatedAt: null,
    releasedAt: null,
    stages: 0,
    pending: null,
    attempts: {},
    updatedAt: now.toISOString(),
  }
}

function readState(saved: unknown): GuidedState | null {
  if (typeof saved !== 'object' || saved === null) return null
  const state = saved as GuidedState
  return state.version === 1 && typeof state.step === 'string' && state.step in STEPS ? state : null
}

/** The whole flow as `--dry-run` prints it. */
export function planText(o: GuidedOptions): string {
  const direction: Direction = o.rollback ? 'rollback' : 'forward'
  const steps = stepsOf(direction, o)
  const lines = [
    `Guided ${direction === 'forward' ? 'rollout' : 'rollback'} of buckets ${rangeText(o.range)} ${direction === 'forward' ? 'to' : 'from'} ${o.host} (session ${o.session}): the steps it would take`,
  ]
  steps.forEach((name, i) => {
    lines.push(`${i + 1}. ${STEPS[name].title}`)
    for (const line of STEPS[name].plan(o)) lines.push(`   ${line}`)
  })
  lines.push(
    'Every change is a dry run first, then executed only after its phrase is typed, with an Idempotency-Key per session and step.',
    'Dry run: nothing was executed.',
  )
  return lines.join('\n')
}

/**
 * Runs the guided flow to its end or to a stop. Never throws for an expected stop (a refusal, a
 * gate, a missing confirmation): those are the result's `outcome` and `exitCode`. API and transport
 * errors propagate, with the state saved so that running again resumes there.
 */
export async function runGuided(options: GuidedOptions, io: GuidedIo): Promise<GuidedResult> {
  const clock = io.clock ?? (() => new Date())
  if (options.dryRun) {
    const run = new Run(options, io, freshState(options, clock()))
    try {
      const outcome = await STEPS.identity.run(run)
      if (outcome.kind === 'halt') run.say(`note: ${outcome.message}`)
    } catch (error) {
      run.say(`note: the API could not be read (${(error as Error).message}); the plan below does not depend on it`)
    }
    run.say(planText(options))
    return { exitCode: ROLLOUT_EXIT.ok, outcome: 'planned', step: null }
  }

  let state = freshState(options, clock())
  const saved = readState(io.store.load())
  if (saved) {
    if (saved.range.min !== options.range.min || saved.range.max !== options.range.max || saved.host !== options.host) {
      io.out(
        `the resume file ${io.store.resumePath} belongs to buckets ${rangeText(saved.range)} on ${saved.host}; ` +
          'use another --session name for this range, or finish (or remove) that run first',
      )
      return { exitCode: ROLLOUT_EXIT.usage, outcome: 'other_run', step: null }
    }
    const run = new Run(options, io, saved)
    run.say(
      `A guided ${saved.direction} run of session ${saved.session} stopped at "${STEPS[saved.step].title}" (${saved.updatedAt}).`,
    )
    const answer = await run.choose(
      'Type RESUME to continue from there, or START OVER to begin again at the first step: ',
      ['RESUME', 'START OVER'],
    )
    if (answer === null) return { exitCode: ROLLOUT_EXIT.notConfirmed, outcome: 'not_confirmed', step: saved.step }
    if (answer === 'RESUME') state = saved
    else state = { ...state, sessionId: saved.sessionId }
  }

  const run = new Run(options, io, state)
  for (;;) {
    const steps = stepsOf(run.state.direction, options)
    const index = steps.indexOf(run.state.step)
    if (index === -1) {
      run.say(
        `the saved step "${run.state.step}" is not part of this run's steps (other --include-… flags?); run it with the flags it started with, or START OVER`,
      )
      return { exitCode: ROLLOUT_EXIT.usage, outcome: 'other_run', step: run.state.step }
    }
    run.save()
    const step = STEPS[run.state.step]
    run.say(`\n== ${run.state.direction} ${index + 1}/${steps.length}: ${step.title}`)
    const outcome = await step.run(run)
    if (outcome.kind === 'retry') continue
    if (outcome.kind === 'rollback') {
      run.state.direction = 'rollback'
      run.state.step = stepsOf('rollback', options).find((name) => name !== 'identity')!
      run.say('rolling back: the range goes back to v1')
      continue
    }
    if (outcome.kind === 'halt') {
      run.save()
      run.say(
        `${outcome.message}\nStopped at "${step.title}". The resume file ${io.store.resumePath} keeps the place; run the same command again to resume.`,
      )
      return { exitCode: outcome.exitCode, outcome: outcome.code, step: run.state.step }
    }
    const next = steps[index + 1]
    if (next === undefined) {
      io.store.clear()
      run.say(
        run.state.direction === 'forward'
          ? `Done: buckets ${rangeText(options.range)} are checked by ${options.host}. To go back: the same command with --rollback.`
          : `Done: buckets ${rangeText(options.range)} are back with v1.`,
      )
      run.say(`transcript: ${io.store.transcriptPath}`)
      return { exitCode: ROLLOUT_EXIT.ok, outcome: 'completed', step: null }
    }
    run.state.step = next
  }
}
