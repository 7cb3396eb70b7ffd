/**
 * The two phases of every rollout step that changes something: a dry run that changes nothing and
 * answers a plan, its blockers and a single-use confirmation token; then, once a person has typed
 * the step's confirmation phrase, the same request with `"dry_run": false`, the token and an
 * `Idempotency-Key`. A refusal of the server (the token is missing, expired or for something else,
 * the plan is blocked or changed) ends the command with its own exit code and a hint.
 */
import { randomUUID } from 'node:crypto'
import { JetmonApiError, JetmonTransportError } from '@jetmon/api-client'
import { CommandError } from '@jetmon/config'
import { formatTable, formatValue, terminalSafe } from '../output.js'
import type { Prompter } from './prompter.js'

/**
 * Exit codes of the rollout commands (docs/rollout.md): the usual 0, 1 and 2, and one per way a
 * step can be held back, so a script can tell "fix the range" from "nobody confirmed" from "run it
 * again".
 */
export const ROLLOUT_EXIT = {
  ok: 0,
  /** An API error, a transport failure, an answer that is not what a rollout step answers. */
  failure: 1,
  usage: 2,
  /** The plan has blockers (a dry run, or 422 `plan_blocked`), or a gate did not pass. */
  blocked: 3,
  /** Nobody confirmed: the phrase was not typed, or there is no terminal to type it and no `--yes`. */
  notConfirmed: 4,
  /** The server refused the confirmation: 409 `confirmation_required|mismatch|expired` or `plan_changed`. */
  confirmationRefused: 5,
} as const

/** One blocker of a plan: why the step cannot run now. */
export interface Blocker {
  code: string
  message: string
}

/** The answer of a dry run: what would happen, what stands in the way, and the token to execute it. */
export interface DryRunAnswer {
  plan: unknown
  blocked: Blocker[]
  warnings: unknown[]
  confirmation_token: string | null
  expires_at: string | null
  [field: string]: unknown
}

/** What a person reads when the server refuses a confirmation, by error code. */
export const REFUSAL_HINTS: Readonly<Record<string, string>> = {
  confirmation_required:
    'the execution carried no confirmation token. Run the command again with --execute: it dry-runs first and sends the token itself.',
  confirmation_mismatch:
    'the token belongs to another step, other parameters or another API key. Run the command again with --execute (one invocation, one key).',
  confirmation_expired:
    'too much time passed between the dry run and the execution. Run the command again and confirm within the token lifetime (rollout capabilities shows it).',
  plan_changed:
    'the range changed since the dry run (another operator or a monitor acted). Nothing was applied: run the command again and read the new plan before confirming.',
  plan_blocked:
    'the plan has blockers, so it cannot be executed. Fix what each blocker names (preflight explains most of them), then run the command again.',
}

const REFUSAL_EXIT: Readonly<Record<string, number>> = {
  confirmation_required: ROLLOUT_EXIT.confirmationRefused,
  confirmation_mismatch: ROLLOUT_EXIT.confirmationRefused,
  confirmation_expired: ROLLOUT_EXIT.confirmationRefused,
  plan_changed: ROLLOUT_EXIT.confirmationRefused,
  plan_blocked: ROLLOUT_EXIT.blocked,
}

/** Whether an error is one of the server's confirmation refusals (409/422 of a two-phase step). */
export function isRefusal(error: unknown): error is JetmonApiError {
  return error instanceof JetmonApiError && error.code in REFUSAL_EXIT
}

/** A step that did not happen, for a reason that has its own exit code (see {@link ROLLOUT_EXIT}). */
export class RolloutHalt extends CommandError {
  /** `plan_blocked`, `not_confirmed`, `no_terminal`, `token_missing`, or the server's refusal code. */
  readonly code: string
  /** What JSON output prints as `{"error": …}`. */
  readonly envelope: Record<string, unknown>
  constructor(code: string, message: string, exitCode: number, options: { cause?: unknown; extra?: object } = {}) {
    super(message, { exitCode, cause: options.cause })
    this.code = code
    this.envelope = { code, message, exit_code: exitCode, ...options.extra }
  }
}

/** The refusal of the server as a halt with its exit code and hint. */
export function refusalHalt(error: JetmonApiError): RolloutHalt {
  const hint = REFUSAL_HINTS[error.code] ?? ''
  const details = (error.details ?? []).map((d) => `\n  ${d.path || '(body)'}: ${d.message}`).join('')
  return new RolloutHalt(
    error.code,
    terminalSafe(`${error.code} (HTTP ${error.status}): ${error.message}${details}\n  ${hint}`),
    REFUSAL_EXIT[error.code] ?? ROLLOUT_EXIT.failure,
    { cause: error, extra: { status: error.status, request_id: error.requestId } },
  )
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Reads a dry-run answer; anything else is a failure (a server that does not speak two phases). */
export function readDryRun(data: unknown, step: string): DryRunAnswer {
  if (!isObject(data) || !('plan' in data) || !Array.isArray(data.blocked))
    throw new RolloutHalt(
      'unexpected_answer',
      `${step}: the dry run did not answer a plan ({plan, blocked, warnings, confirmation_token}); is this API too old for rollout steps?`,
      ROLLOUT_EXIT.failure,
    )
  const blocked = data.blocked.map((b) =>
    isObject(b)
      ? { code: String(b.code ?? 'blocked'), message: String(b.message ?? '') }
      : { code: String(b), message: '' },
  )
  return {
    ...data,
    plan: data.plan,
    blocked,
    warnings: Array.isArray(data.warnings) ? data.warnings : [],
    confirmation_token: typeof data.confirmation_token === 'string' ? data.confirmation_token : null,
    expires_at: typeof data.expires_at === 'string' ? data.expires_at : null,
  }
}

const warningText = (warning: unknown) =>
  isObject(warning) ? `${warning.code ?? 'warning'}: ${warning.message ?? JSON.stringify(warning)}` : String(warning)

/** A dry run for a person: the plan, then each blocker and warning; the token itself is never shown. */
export function dryRunText(answer: DryRunAnswer, title: string): string {
  const parts = [`${title}: plan (dry run, nothing changed)`, formatValue(answer.plan)]
  if (answer.blocked.length > 0)
    parts.push(
      `BLOCKED (${answer.blocked.length}): this step cannot run until each is fixed`,
      formatTable(
        ['code', 'message'],
        answer.blocked.map((b) => [b.code, b.message]),
      ),
    )
  if (answer.warnings.length > 0)
    parts.push(`WARNINGS (${answer.warnings.length})`, answer.warnings.map((w) => `- ${warningText(w)}`).join('\n'))
  if (answer.blocked.length === 0 && answer.confirmation_token)
    parts.push(`confirmation token issued (single use, expires ${answer.expires_at ?? 'soon'})`)
  return terminalSafe(parts.join('\n'))
}

/** An `Idempotency-Key` for one execution of a primitive command. */
export function newIdempotencyKey(step: string): string {
  return `jetmon2-rollout-${step}-${randomUUID()}`
}

/**
 * Asks for the confirmation phrase. Resolves when it was typed exactly (surrounding blanks aside);
 * otherwise throws a {@link RolloutHalt} (exit 4), also when no person can answer (no terminal
 * and no `--yes`).
 */
export async function confirmPhrase(
  prompter: Prompter,
  phrase: string,
  options: { yes?: boolean; what: string },
): Promise<void> {
  if (options.yes) return
  if (!prompter.interactive)
    throw new RolloutHalt(
      'no_terminal',
      `${options.what} needs a typed confirmation (${phrase}), and standard input is not a terminal: nothing was changed. ` +
        'Run it from a terminal, or pass --yes in a script that has checked the plan.',
      ROLLOUT_EXIT.notConfirmed,
    )
  const answer = await prompter.ask(`Type ${phrase} to execute it (anything else stops here): `)
  if (answer?.trim() !== phrase)
    throw new RolloutHalt(
      'not_confirmed',
      `not confirmed (the answer was not ${phrase}): nothing was changed.`,
      ROLLOUT_EXIT.notConfirmed,
    )
}

/** Sends one request of an execution, again with the same key when the answer was lost in transit. */
export async function sendWithRetries<T>(send: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send()
    } catch (error) {
      // Same body, same Idempotency-Key: the server applies it once and replays its answer.
      if (!(error instanceof JetmonTransportError) || error.code === 'ABORTED' || attempt >= attempts) throw error
    }
  }
}

/** One two-phase step: how to send its request (dry or not) and what a person types to confirm it. */
export interface TwoPhaseStep {
  /** The step's name in messages and idempotency keys: `activate`. */
  name: string
  /** Who reads the plan (`activate buckets 0-99 on host-b`). */
  title: string
  /** The typed confirmation, e.g. `ACTIVATE 0-99 host-b`. */
  phrase: string
  send(body: { dry_run: boolean; confirmation_token?: string }, idempotencyKey?: string): Promise<unknown>
}

export interface TwoPhaseOptions {
  execute: boolean
  yes: boolean
  prompter: Prompter
  /** Where the plan goes for a person (stdout for table output; stderr when stdout carries JSON). */
  show(text: string): void
  idempotencyKey?: string
}

export interface TwoPhaseResult {
  dryRun: DryRunAnswer
  /** The execution's answer, when it ran. */
  executed?: unknown
  idempotencyKey?: string
}

/**
 * Runs a step: the dry run, shown; with `execute`, the confirmation and the execution. Halts
 * (see {@link ROLLOUT_EXIT}) when the plan is blocked, the token is missing, nobody confirms or
 * the server refuses.
 */
export async function runTwoPhase(step: TwoPhaseStep, options: TwoPhaseOptions): Promise<TwoPhaseResult> {
  let dryRun: DryRunAnswer
  try {
    dryRun = readDryRun(await step.send({ dry_run: true }), step.name)
  } catch (error) {
    throw isRefusal(error) ? refusalHalt(error) : error
  }
  options.show(dryRunText(dryRun, step.title))
  if (!options.execute) return { dryRun }
  if (dryRun.blocked.length > 0)
    throw new RolloutHalt(
      'plan_blocked',
      `${step.title}: the plan has ${dryRun.blocked.length} blocker(s) (${dryRun.blocked.map((b) => b.code).join(', ')}): nothing was changed.\n  ${REFUSAL_HINTS.plan_blocked}`,
      ROLLOUT_EXIT.blocked,
    )
  const token = dryRun.confirmation_token
  // Fail closed: an execution is never sent without the token of the dry run just shown.
  if (!token)
    throw new RolloutHalt(
      'token_missing',
      `${step.title}: the dry run answered no confirmation token, so the step is not executed. Run it again; if it persists, the API is not a compatible version.`,
      ROLLOUT_EXIT.failure,
    )
  await confirmPhrase(options.prompter, step.phrase, { yes: options.yes, what: step.title })
  const key = options.idempotencyKey ?? newIdempotencyKey(step.name)
  try {
    const executed = await sendWithRetries(() => step.send({ dry_run: false, confirmation_token: token }, key))
    return { dryRun, executed, idempotencyKey: key }
  } catch (error) {
    throw isRefusal(error) ? refusalHalt(error) : error
  }
}
