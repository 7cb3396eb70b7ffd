/**
 * Number and time formatting shared by the server templates and the browser script, so that a
 * value rendered by the server and one updated live read the same. Times are always UTC.
 */

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** A duration for a person: `45 s`, `12 min`, `3 h 5 min`, `4 d 3 h`. */
export function formatDuration(ms: number): string {
  const abs = Math.max(0, Math.round(ms))
  if (abs < MINUTE) return `${Math.floor(abs / 1000)} s`
  if (abs < HOUR) return `${Math.floor(abs / MINUTE)} min`
  if (abs < DAY) {
    const minutes = Math.floor((abs % HOUR) / MINUTE)
    return `${Math.floor(abs / HOUR)} h${minutes ? ` ${minutes} min` : ''}`
  }
  const hours = Math.floor((abs % DAY) / HOUR)
  return `${Math.floor(abs / DAY)} d${hours ? ` ${hours} h` : ''}`
}

/** `3 min ago`, or `in 4 d` for a time in the future. */
export function formatAge(at: number, now: number): string {
  const diff = now - at
  if (diff < 0 && diff > -5_000) return 'just now'
  return diff >= 0 ? `${formatDuration(diff)} ago` : `in ${formatDuration(-diff)}`
}

const pad = (n: number) => String(n).padStart(2, '0')

/** `2025-11-23 02:07:05` (UTC). */
export function formatTime(at: number): string {
  const d = new Date(at)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())}`
}

/** `02:07` (UTC), for chart axes and short labels. */
export function formatClock(at: number): string {
  const d = new Date(at)
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
}

/** `87 ms`, `1.52 s`; `—` for no value. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
}

/**
 * An uptime percentage that never rounds a failure up to 100: `99.95 %`, `99.999 %`, `100 %`;
 * `—` when nothing was measured.
 */
export function formatPercent(percent: number | null | undefined): string {
  if (percent === null || percent === undefined || !Number.isFinite(percent)) return '—'
  if (percent >= 100) return '100 %'
  // Floored, never rounded: 99.9996 must not read as 100. Three digits where the nines matter.
  const digits = percent >= 99.9 ? 3 : 2
  const factor = 10 ** digits
  return `${(Math.floor(percent * factor) / factor).toFixed(digits)} %`
}

/** `512 MiB`, `1.4 GiB`. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`
}

/** `12,345` with thin grouping, the same in every locale. */
export function formatCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}
