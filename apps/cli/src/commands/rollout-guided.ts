/** `jetmon2 api rollout guided`: the whole move of a range (or its rollback), step by step, with a person. */
import { CommandError } from '@jetmon/config'
import { defineApiCommand, note } from '../_command.js'
import { UsageError } from '../errors.js'
import { formatJson, terminalSafe } from '../output.js'
import { restRolloutPort } from '../rollout/api.js'
import { type GuidedOptions, runGuided } from '../rollout/guided.js'
import { defaultLogDir, fileStore } from '../rollout/journal.js'
import { linePrompter } from '../rollout/prompter.js'
import { ROLLOUT_EXIT } from '../rollout/two-phase.js'
import { print } from './_shared.js'

/** A whole number flag within bounds, or a usage error naming the flag. */
export function wholeNumber(flag: string, text: string | undefined, bounds: { min: number; max: number }): number {
  if (text === undefined || !/^\d+$/.test(text.trim()))
    throw new UsageError(`--${flag}: must be a whole number, got ${JSON.stringify(text ?? '')}`)
  const value = Number(text)
  if (value < bounds.min || value > bounds.max)
    throw new UsageError(`--${flag}: must be between ${bounds.min} and ${bounds.max}, got ${value}`)
  return value
}

/** `--bucket-min` and `--bucket-max`, checked: whole numbers, min ≤ max. */
export function bucketRange(args: Record<string, unknown>): { min: number; max: number } {
  const min = wholeNumber('bucket-min', args['bucket-min'] as string | undefined, { min: 0, max: 65_535 })
  const max = wholeNumber('bucket-max', args['bucket-max'] as string | undefined, { min: 0, max: 65_535 })
  if (min > max) throw new UsageError(`--bucket-min ${min} is above --bucket-max ${max}`)
  return { min, max }
}

export const guided = defineApiCommand({
  name: 'guided',
  description:
    'Move a bucket range from v1 to a Jetmon 2 host (or back with --rollback), step by step with typed confirmations',
  examples: [
    'jetmon2 api rollout guided --bucket-min 0 --bucket-max 99 --host host-b --dry-run',
    'jetmon2 api rollout guided --bucket-min 0 --bucket-max 99 --host host-b --include-comparison',
    'jetmon2 api rollout guided --bucket-min 0 --bucket-max 99 --host host-b --rollback',
  ],
  routes: [
    'me',
    'rollout.capabilities',
    'rollout.status',
    'rollout.listSessions',
    'rollout.createSession',
    'rollout.preflight',
    'rollout.smoke',
    'rollout.compare',
    'rollout.adopt',
    'rollout.activate',
    'rollout.reconcile',
    'rollout.createPolicyStage',
    'rollout.rollbackAllPolicyStages',
    'rollout.release',
  ],
  writes: true,
  args: {
    'bucket-min': { type: 'string', valueHint: 'n', required: true, description: 'First bucket of the range' },
    'bucket-max': { type: 'string', valueHint: 'n', required: true, description: 'Last bucket of the range' },
    host: {
      type: 'string',
      valueHint: 'host-id',
      required: true,
      description: 'HOST_ID of the api-controlled Jetmon 2 monitor that takes the range',
    },
    session: {
      type: 'string',
      valueHint: 'name',
      description: 'Name of the rollout session, its resume file and transcript (default rollout-<min>-<max>)',
    },
    'dry-run': { type: 'boolean', description: 'Print every step this run would take, and execute nothing' },
    rollback: { type: 'boolean', description: 'Give the range back to v1: release, drain gate, checkpoint' },
    'include-comparison': { type: 'boolean', description: 'Also compare HEAD/legacy with GET/simple_http on a sample' },
    'include-policy-migration': {
      type: 'boolean',
      description: 'Also move the range to GET/simple_http in stages (with --rollback: roll the stages back first)',
    },
    'stage-size': { type: 'string', valueHint: 'n', description: 'Endpoints per policy stage (default 10)' },
    'log-dir': {
      type: 'string',
      valueHint: 'dir',
      description: 'Where the transcript and the resume file go (default ~/.local/state/jetmon2/rollout)',
    },
    'wait-first-checks': {
      type: 'string',
      valueHint: 'seconds',
      description: 'How long the host may take to check every endpoint of the range after activation (default 900)',
    },
    'wait-release': {
      type: 'string',
      valueHint: 'seconds',
      description: 'How long the host may take to drain the range after a release (default 300)',
    },
    poll: { type: 'string', valueHint: 'seconds', description: 'Seconds between two polls while waiting (default 10)' },
    'answers-from-stdin': {
      type: 'boolean',
      description:
        'Read the typed answers from standard input, one per line, when it is not a terminal (rehearsals, tests)',
    },
  },
  async run({ args, session }) {
    const range = bucketRange(args)
    const host = args.host.trim()
    if (!/^[\x21-\x7e]{1,255}$/.test(host))
      throw new UsageError('--host: must be a HOST_ID (visible characters, no spaces)')
    const name = (args.session ?? `rollout-${range.min}-${range.max}`).trim()
    if (name === '' || name.length > 128) throw new UsageError('--session: must be 1–128 characters')
    const seconds = (flag: string, fallback: number, max: number) =>
      args[flag] === undefined ? fallback : wholeNumber(flag, args[flag] as string, { min: 1, max })
    const options: GuidedOptions = {
      range,
      host,
      session: name,
      rollback: args.rollback === true,
      includeComparison: args['include-comparison'] === true,
      includePolicyMigration: args['include-policy-migration'] === true,
      dryRun: args['dry-run'] === true,
      stageSize:
        args['stage-size'] === undefined
          ? 10
          : wholeNumber('stage-size', args['stage-size'], { min: 1, max: 1_000_000 }),
      firstChecksTimeoutMs: seconds('wait-first-checks', 900, 86_400) * 1000,
      releaseTimeoutMs: seconds('wait-release', 300, 86_400) * 1000,
      pollMs: seconds('poll', 10, 3_600) * 1000,
    }
    if (!options.dryRun) session.assertWritable('rollout guided')
    const prompter = linePrompter({
      interactive: process.stdin.isTTY === true || args['answers-from-stdin'] === true,
    })
    if (!options.dryRun && !prompter.interactive)
      throw new CommandError(
        'rollout guided asks for typed confirmations, and standard input is not a terminal: nothing was done. ' +
          'Run it from a terminal (or pass --answers-from-stdin to read the answers from standard input), or --dry-run to see the plan.',
        { exitCode: ROLLOUT_EXIT.notConfirmed },
      )
    // People read the run on stdout; with JSON output it goes to stderr, and stdout gets the result.
    const json = session.format === 'json'
    const out = (text: string) => (json ? process.stderr : process.stdout).write(`${terminalSafe(text)}\n`)
    const store = fileStore(args['log-dir'] ?? defaultLogDir(), name)
    let result: Awaited<ReturnType<typeof runGuided>>
    try {
      result = await runGuided(options, { api: restRolloutPort(session), prompter, store, out })
    } catch (error) {
      if (!options.dryRun)
        note(`the run stopped on an error; ${store.resumePath} keeps the place: run the same command again to resume`)
      throw error
    } finally {
      prompter.close()
    }
    if (json)
      print(
        formatJson(
          {
            outcome: result.outcome,
            exit_code: result.exitCode,
            step: result.step,
            ...(options.dryRun ? {} : { transcript: store.transcriptPath, resume_file: store.resumePath }),
          },
          session.pretty,
        ),
      )
    if (result.exitCode !== ROLLOUT_EXIT.ok)
      throw new CommandError(`rollout guided stopped (${result.outcome})`, { exitCode: result.exitCode })
  },
})
