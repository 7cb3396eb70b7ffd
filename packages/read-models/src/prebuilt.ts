/**
 * Statements whose text is built once: drizzle renders a `sql` template (walking every fragment,
 * quoting every name) on each execution, which for a large hand-written statement costs more of
 * the request than the database round trip. A prebuilt statement renders its template once, with
 * `sql.placeholder(name)` where the values go, and then only binds the values of each call.
 */
import { fillPlaceholders, SQL, type SQLWrapper, StringChunk } from 'drizzle-orm'
import { MySqlDialect } from 'drizzle-orm/mysql-core'

const dialect = new MySqlDialect()

/**
 * `build` rendered on the first call and kept; each call returns the kept text with `values`
 * bound to the placeholders of the same name (every other parameter of the template is kept as
 * it was). The template must not depend on anything but its placeholders.
 */
export function prebuilt(build: () => SQLWrapper): (values: Record<string, unknown>) => SQL {
  let text: StringChunk[] | undefined
  let params: unknown[] = []
  return (values) => {
    if (text === undefined) {
      const query = dialect.sqlToQuery(build().getSQL())
      const pieces = query.sql.split('?')
      // Every `?` is a parameter: names and the statement's own text never contain one.
      if (pieces.length !== query.params.length + 1) throw new Error('a prebuilt statement contains a literal "?"')
      text = pieces.map((piece) => new StringChunk(piece))
      params = query.params
    }
    const bound = fillPlaceholders(params, values)
    const chunks: unknown[] = [text[0]]
    for (let i = 0; i < bound.length; i++) chunks.push(bound[i], text[i + 1])
    return new SQL(chunks as SQL['queryChunks'])
  }
}
