/**
 * Rows as aligned columns under upper-case headings, two spaces apart; the last column is not
 * padded (no trailing blanks). Empty cells print as `-` so that columns stay readable with `awk`.
 */
export function formatTable(headings: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [headings.map((h) => h.toUpperCase()), ...rows.map((row) => headings.map((_, i) => row[i] || '-'))]
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
