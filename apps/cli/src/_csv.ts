/** One parsed CSV record: its cells and the line it starts on (quoted cells may span lines). */
export interface CsvRecord {
  line: number
  cells: string[]
}

/** A CSV document that cannot be read, with the line of the problem. */
export class CsvError extends Error {
  override readonly name = 'CsvError'
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`)
  }
}

/**
 * Parses RFC 4180 CSV: `,` separated, `"` quoted (with `""` for a quote), CRLF or LF line ends,
 * line breaks inside quoted cells. A byte order mark is ignored, so are blank lines.
 */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = []
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  let cells: string[] = []
  let cell = ''
  let quoted = false
  let cellWasQuoted = false
  let line = 1
  let recordLine = 1
  const endCell = () => {
    cells.push(cell)
    cell = ''
    cellWasQuoted = false
  }
  const endRecord = () => {
    const blank = cells.length === 0 && cell === '' && !cellWasQuoted
    endCell()
    if (!blank) records.push({ line: recordLine, cells })
    cells = []
  }
  for (let i = 0; i < source.length; i++) {
    const char = source[i]!
    if (quoted) {
      if (char === '"') {
        if (source[i + 1] === '"') {
          cell += '"'
          i++
        } else quoted = false
      } else {
        if (char === '\n') line++
        cell += char
      }
      continue
    }
    if (char === '"') {
      if (cell !== '') throw new CsvError(line, 'a quote in the middle of an unquoted cell; quote the whole cell')
      quoted = true
      cellWasQuoted = true
    } else if (char === ',') {
      endCell()
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && source[i + 1] === '\n') i++
      endRecord()
      line++
      recordLine = line
    } else {
      if (cellWasQuoted) throw new CsvError(line, 'text after a closing quote; quote the whole cell')
      cell += char
    }
  }
  if (quoted) throw new CsvError(recordLine, 'a quoted cell is not closed')
  if (cell !== '' || cells.length > 0 || cellWasQuoted) endRecord()
  return records
}

/** One cell: quoted when it holds a comma, a quote, a line break or edge spaces. */
function csvCell(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value
}

/** Rows as CSV with a header line and CRLF line ends (RFC 4180); `null`/absent cells are empty. */
export function formatCsv(
  columns: readonly string[],
  rows: readonly Record<string, string | null | undefined>[],
): string {
  const lines = [columns.map(csvCell).join(',')]
  for (const row of rows) lines.push(columns.map((column) => csvCell(row[column] ?? '')).join(','))
  return `${lines.join('\r\n')}\r\n`
}
