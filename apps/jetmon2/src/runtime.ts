/**
 * The runtime settings of a checking process (`jetmon2 serve` and the workers it forks), for a fleet
 * held in memory. What a process holds for its endpoints is small (about 200 bytes each after a full
 * collection), but with V8's defaults on a host with a lot of memory the heap grows to several times
 * that and keeps the pages it grew to: the load of a large fleet and the objects every check
 * allocates for a moment leave the process at about four times its live data.
 *
 * - The old generation may grow by {@link HEAP_GROWING_PERCENT} over what the last full collection
 *   left, instead of up to 4×. V8 reads this at every collection, so it is set at run time.
 * - The young generation is capped at {@link MAX_SEMI_SPACE_MB} MB per semi-space (V8 sizes it from
 *   the heap limit: about 120 MB of new space at a million endpoints otherwise). V8 reads this when
 *   the process starts: `serve` re-executes itself with it (same process id, so a service manager
 *   sees nothing), and the supervisor forks its workers with it.
 *
 * The operator's own settings win: a flag already given on the command line or in `NODE_OPTIONS` is
 * kept. `JETMON_RUNTIME_TUNED=off` in the environment leaves every process as it was started, with
 * V8's defaults. (Fewer glibc malloc arenas, `MALLOC_ARENA_MAX=2`, were measured too: 14 MB less at a
 * million endpoints, within the noise, so they are not set.)
 */
import { setFlagsFromString } from 'node:v8'

export const HEAP_GROWING_PERCENT = 50
export const MAX_SEMI_SPACE_MB = 16
/** `1` in the environment of a process started with these settings; `off`: none of them. */
export const TUNED_ENV = 'JETMON_RUNTIME_TUNED'

export interface Launch {
  /** Node.js and V8 flags, before the script. */
  execArgv: string[]
  env: NodeJS.ProcessEnv
}

/** Whether `flag` (`--max-semi-space-size`) is among `args`, with or without a value, in either spelling. */
function given(args: readonly string[], flag: string): boolean {
  const names = [flag, flag.replaceAll('-', '_').replace(/^__/, '--')]
  return args.some((arg) => names.some((name) => arg === name || arg.startsWith(`${name}=`)))
}

/** The flags and environment a checking process starts with: `execArgv` and `env` plus what they lack. */
export function checkingProcessLaunch(execArgv: readonly string[], env: NodeJS.ProcessEnv): Launch {
  if (env[TUNED_ENV] === 'off') return { execArgv: [...execArgv], env: { ...env } }
  const operator = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean)]
  const flags = given(operator, '--max-semi-space-size') ? [] : [`--max-semi-space-size=${MAX_SEMI_SPACE_MB}`]
  return {
    execArgv: [...execArgv, ...flags],
    env: { ...env, [TUNED_ENV]: env[TUNED_ENV] ?? '1' },
  }
}

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never

/**
 * Re-executes this process with {@link checkingProcessLaunch}'s settings, unless it already runs
 * with them, or this Node.js or platform has no `process.execve` (then it goes on as it is and
 * returns). Call it before the process opens anything: the new program keeps the process id, its
 * environment and standard streams, and nothing else of this one.
 */
export function relaunchTuned(
  proc: Pick<NodeJS.Process, 'env' | 'execArgv' | 'argv' | 'execPath'> & { execve?: Execve } = process,
): void {
  if (proc.env[TUNED_ENV] !== undefined || typeof proc.execve !== 'function') return
  const launch = checkingProcessLaunch(proc.execArgv, proc.env)
  try {
    proc.execve(proc.execPath, [proc.execPath, ...launch.execArgv, ...proc.argv.slice(1)], launch.env)
  } catch {
    // Not on this platform (Windows), or the exec failed: this process goes on as it was started.
  }
}

/** The V8 flag that bounds the old generation's growth, unless the process was started with one. */
export function heapGrowthFlag(execArgv: readonly string[], env: NodeJS.ProcessEnv): string | null {
  return env[TUNED_ENV] === 'off' || given(execArgv, '--heap-growing-percent')
    ? null
    : `--heap-growing-percent=${HEAP_GROWING_PERCENT}`
}

/** Bounds this process's heap growth (see {@link HEAP_GROWING_PERCENT}). */
export function limitHeapGrowth(): void {
  const flag = heapGrowthFlag(process.execArgv, process.env)
  if (flag) setFlagsFromString(flag)
}
