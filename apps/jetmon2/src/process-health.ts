import { readFileSync } from 'node:fs'

/** What the kernel says about a running process: its command line and when it started. */
export interface ProcessIdentity {
  pid: number
  /** argv as the process sees it (`/proc/<pid>/cmdline`). */
  argv: string[]
  startedAt: Date
}

/**
 * Linux's clock tick for the start time in `/proc/<pid>/stat` (USER_HZ). It is 100 on every
 * architecture Node runs on; the kernel keeps it fixed for user space whatever its own HZ is.
 */
const USER_HZ = 100

/** Reads `/proc/<pid>/cmdline` and `/proc/<pid>/stat`; `null` when no such process is visible here. */
export function readProcessIdentity(pid: number, proc = '/proc'): ProcessIdentity | null {
  let cmdline: string
  let stat: string
  let bootStat: string
  try {
    cmdline = readFileSync(`${proc}/${pid}/cmdline`, 'utf8')
    stat = readFileSync(`${proc}/${pid}/stat`, 'utf8')
    bootStat = readFileSync(`${proc}/stat`, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ESRCH')
      return null
    throw error
  }
  // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so fields count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const startTicks = Number(fields[19]) // field 22 of the whole line
  const bootSeconds = Number(/^btime (\d+)$/m.exec(bootStat)?.[1])
  if (!Number.isFinite(startTicks) || !Number.isFinite(bootSeconds))
    throw new Error(`cannot read the start time of pid ${pid} from ${proc}`)
  return {
    pid,
    argv: cmdline.split('\0').filter((word, i, all) => word !== '' || i < all.length - 1),
    startedAt: new Date(bootSeconds * 1000 + (startTicks * 1000) / USER_HZ),
  }
}

/** The subcommands whose process writes a monitor health row. */
export type MonitorCommand = 'serve' | 'demo'

/** How far the process may have started before its health row's started_at (start-up work). */
const STARTUP_ALLOWANCE_MS = 10 * 60_000
/** The boot time is whole seconds and the clock ticks are 10 ms: a process may seem to start this late. */
const CLOCK_SLACK_MS = 2_000

const isJetmon2Entry = (word: string) =>
  /(^|\/)jetmon2$/.test(word) || /(^|\/)jetmon2\/(dist|src)\/cli\.[cm]?[jt]s$/.test(word)

/**
 * Why the process behind a health row's pid is not the monitor that wrote the row, or `null` when
 * it is: it must run `jetmon2 <one of commands>` and have started when the row says (a little
 * before). A row left behind by a monitor that died names a pid the system may since have given
 * to an unrelated process, which must never get the signal meant for the monitor.
 */
export function monitorMismatch(
  row: { pid: number; startedAt: Date },
  running: ProcessIdentity | null,
  commands: readonly MonitorCommand[],
): string | null {
  if (!running) return `no process with pid ${row.pid} runs on this machine`
  const entry = running.argv.findIndex(isJetmon2Entry)
  const command = entry < 0 ? undefined : running.argv.slice(entry + 1).find((word) => !word.startsWith('-'))
  if (entry < 0 || !commands.includes(command as MonitorCommand))
    return `pid ${row.pid} is not a jetmon2 ${commands.join('/')} process (it runs: ${running.argv.join(' ').slice(0, 200)})`
  const lead = row.startedAt.getTime() - running.startedAt.getTime()
  if (lead < -CLOCK_SLACK_MS || lead > STARTUP_ALLOWANCE_MS)
    return (
      `pid ${row.pid} started at ${running.startedAt.toISOString()}, but the monitor that wrote the health ` +
      `row started at ${row.startedAt.toISOString()}: the pid now belongs to another process`
    )
  return null
}
