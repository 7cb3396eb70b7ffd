import { bar } from './output.js'

/** `[████▌     ]  45/100  created 40  skipped 3  failed 2`: one line, redrawn in place. */
export function progressLine(done: number, total: number, counts: Record<string, number>, width = 24): string {
  const filled = bar(done, total, width)
  const meter = `[${filled}${' '.repeat(width - [...filled].length)}]`
  const count = `${String(done).padStart(String(total).length)}/${total}`
  const parts = Object.entries(counts).map(([name, n]) => `${name} ${n}`)
  return [meter, count, ...parts].join('  ')
}

/** A progress bar on a terminal stream; nothing at all on a pipe or a file. */
export interface Progress {
  update(done: number, counts: Record<string, number>): void
  /** Clears the line, so the summary that follows starts on a clean one. */
  finish(): void
}

/** A {@link Progress} for `total` items on `stream` (default stderr), drawn only when it is a terminal. */
export function createProgress(total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || total === 0) return { update() {}, finish() {} }
  let last = 0
  let drawn = false
  return {
    update(done, counts) {
      // Redraw at most every 50 ms (and always at the end): a fast run must not flood the terminal.
      const now = Date.now()
      if (done < total && now - last < 50) return
      last = now
      drawn = true
      stream.write(`\r\x1b[2K${progressLine(done, total, counts)}`)
    },
    finish() {
      if (drawn) stream.write('\r\x1b[2K')
    },
  }
}
