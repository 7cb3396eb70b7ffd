/** One CSV record: its fields and the line it starts on (1-based, as an editor numbers them). */
export interface CsvRecord {
  line: number
  fields: string[]
  /** Set when the record cannot be read (an unterminated quoted field); `fields` is then partial. */
  error?: string
}

/**
 * Streams CSV records (RFC 4180: `,` separators, `"` quoting with `""` inside quotes, fields that
 * span lines) from text chunks, so that large files never sit in memory whole. Accepts LF and CRLF
 * line ends and a leading byte order mark; skips blank lines.
 */
export async function* csvRecords(chunks: AsyncIterable<string>): AsyncGenerator<CsvRecord> {
  let fields: string[] = []
  let field = ''
  let quoted = false // inside a quoted field
  let quoteSeen = false // a `"` inside quotes: the end of the field, or the first half of `""`
  let line = 1
  let recordLine = 1
  let first = true
  const endRecord = (): CsvRecord | null => {
    fields.push(field)
    const record = fields.length === 1 && fields[0] === '' ? null : { line: recordLine, fields }
    fields = []
    field = ''
    return record
  }
  for await (let chunk of chunks) {
    if (first) {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1)
      first = false
    }
    for (const char of chunk) {
      if (quoted) {
        if (quoteSeen) {
          quoteSeen = false
          if (char === '"') {
            field += '"'
            continue
          }
          quoted = false // the closing quote; this character is read as outside quotes below
        } else if (char === '"') {
          quoteSeen = true
          continue
        } else {
          if (char === '\n') line++
          field += char
          continue
        }
      }
      if (char === ',') {
        fields.push(field)
        field = ''
      } else if (char === '\n') {
        const record = endRecord()
        if (record) yield record
        line++
        recordLine = line
      } else if (char === '\r') {
        // Part of a CRLF line end.
      } else if (char === '"' && field === '') {
        quoted = true
      } else {
        field += char
      }
    }
  }
  if (quoted && !quoteSeen) {
    fields.push(field)
    yield { line: recordLine, fields, error: `a quoted field starting on line ${recordLine} has no closing quote` }
    return
  }
  const record = endRecord()
  if (record) yield record
}
