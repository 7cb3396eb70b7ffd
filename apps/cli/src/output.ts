/**
 * Characters that steer a terminal instead of showing: C0 controls but the newline, DEL, C1 controls
 * (U+0080–U+009F, `\x9b` is a CSI on some terminals) and the bidirectional overrides and isolates
 * that reorder what is shown. Site URLs, names, receivers' answers and error bodies come from others.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const TERMINAL_CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/**
 * Text written by others made safe to print on a terminal: every control character (see above)
 * shows as its escape (`\x1b`, `\u202e`) instead of acting, so an operator sees that it is there.
 * Newlines stay. Text without such characters comes back unchanged; JSON output never goes through
 * this (it stays exact).
 */
export function terminalSafe(text: string): string {
  return text.replace(TERMINAL_CONTROLS, (c) => {
    const code = c.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}

/**
 * Rows as aligned columns under upper-case headings, two spaces apart; the last column is not
 * padded (no trailing blanks). Empty cells print as `-` so that columns stay readable with `awk`.
 */
export function formatTable(headings: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [
    headings.map((h) => terminalSafe(h.toUpperCase().replace(/[\r\n\t]+/g, ' '))),
    ...rows.map((row) => headings.map((_, i) => terminalSafe((row[i] || '-').replace(/[\r\n\t]+/g, ' ')))),
  ]
  const widths = headings.map((_, i) => Math.max(...cells.map((row) => [...(row[i] ?? '')].length)))
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - [...cell].length)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

/** One JSON document: one line for pipes, indented with `pretty`. */
export function formatJson(value: unknown, pretty: boolean): string {
  return JSON.stringify(value, null, pretty ? 2 : undefined)
}

/**
 * A value as one table cell, exactly as the API sent it: ids and numbers are never rounded,
 * timestamps are not reformatted, a list of scalars is joined with `, `, an object is compact JSON.
 * `null` and absent values are empty (the table prints `-`).
 */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'string') return terminalSafe(value.replace(/[\r\n\t]+/g, ' '))
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  if (Array.isArray(value) && value.every((item) => item === null || typeof item !== 'object'))
    return value.map(cellText).join(', ')
  return JSON.stringify(value)
}

type Row = Record<string, unknown>

const isRow = (value: unknown): value is Row => typeof value === 'object' && value !== null && !Array.isArray(value)

/** The scalar-ish fields of rows, in first-seen order: the default columns of a list. */
export function columnsOf(rows: readonly Row[]): string[] {
  const seen = new Set<string>()
  for (const row of rows) {
    for (const [key, value] of Object.entries(row)) {
      if (Array.isArray(value) && value.some(isRow)) continue
      seen.add(key)
    }
  }
  return [...seen]
}

/** A list of objects as a table of the given (or all scalar) columns. */
export function formatRows(rows: readonly unknown[], columns?: readonly string[]): string {
  const objects = rows.filter(isRow)
  const headings = columns ?? columnsOf(objects)
  if (headings.length === 0) return rows.length === 0 ? '(none)' : rows.map(cellText).join('\n')
  if (objects.length === 0) return `${formatTable(headings, [])}\n(none)`
  return formatTable(
    headings,
    objects.map((row) => headings.map((column) => cellText(valueAt(row, column)))),
  )
}

/** `a.b` reads a nested field, so a column can show `maintenance.ends_at`. */
function valueAt(row: Row, column: string): unknown {
  if (column in row) return row[column]
  let value: unknown = row
  for (const part of column.split('.')) value = isRow(value) ? value[part] : undefined
  return value
}

/**
 * Any API answer for a person: a list as a table, an object as `field value` lines followed by a
 * table per nested list of objects (a site's `endpoints`), a scalar as itself.
 */
export function formatValue(value: unknown, options: { columns?: readonly string[] } = {}): string {
  if (Array.isArray(value)) return formatRows(value, options.columns)
  if (!isRow(value)) return cellText(value)
  const fields: string[][] = []
  const lists: string[] = []
  for (const [key, field] of Object.entries(value)) {
    if (Array.isArray(field) && field.length > 0 && field.every(isRow)) {
      lists.push(`${key.toUpperCase()} (${field.length})\n${formatRows(field)}`)
    } else if (isRow(field) && Object.values(field).every((v) => v === null || typeof v !== 'object')) {
      // A small nested object (a maintenance window, a confirmation): one line per field.
      for (const [inner, innerValue] of Object.entries(field)) fields.push([`${key}.${inner}`, cellText(innerValue)])
      if (Object.keys(field).length === 0) fields.push([key, '{}'])
    } else {
      fields.push([key, cellText(field)])
    }
  }
  const head = fields.length > 0 ? formatTable(['field', 'value'], fields) : ''
  return [head, ...lists].filter((part) => part !== '').join('\n\n')
}

const SPARKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const

/** `▁▂▄█`: each value as a block whose height is its share of the largest (zero stays lowest). */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values.filter(Number.isFinite))
  return values
    .map((value) => {
      if (!Number.isFinite(value) || max <= 0 || value <= 0) return SPARKS[0]
      return SPARKS[Math.min(SPARKS.length - 1, Math.round((value / max) * (SPARKS.length - 1)))]
    })
    .join('')
}

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'] as const

/** A horizontal bar `width` cells long at `max`, in eighths of a cell; never longer than `width`. */
export function bar(value: number, max: number, width: number): string {
  if (!Number.isFinite(value) || !(max > 0) || value <= 0) return ''
  const eighths = Math.round(Math.min(1, value / max) * width * 8)
  const full = Math.floor(eighths / 8)
  return '█'.repeat(full) + EIGHTHS[eighths % 8]
}
