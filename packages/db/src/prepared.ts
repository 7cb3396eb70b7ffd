import { is } from 'drizzle-orm'
import { MySqlTransaction } from 'drizzle-orm/mysql-core'
import type { DbOrTx } from './transaction.js'

/** Statement shapes kept per database handle by each {@link preparedPerDatabase}. */
export const PREPARED_SHAPES_MAX = 256

/**
 * Queries prepared once per database handle and statement shape. Building a statement with
 * drizzle's query builder walks every column, condition and name on each call, which costs a
 * read path more CPU than the database round trip; a query prepared with `.prepare()` and
 * `sql.placeholder(…)` for its values is built once and then only bound. `prepare(db, shape)`
 * builds the query of one `shape` (a key naming what varies: which filters are present, how many
 * values a list holds); the result is kept per handle (weakly) and shape, up to
 * {@link PREPARED_SHAPES_MAX} shapes per handle (past it, the kept queries start afresh: shapes a
 * client can choose never grow memory without bound). A transaction is never kept: its query is
 * prepared for that call, on it.
 */
export function preparedPerDatabase<Shape, Query>(
  prepare: (db: DbOrTx, shape: Shape) => Query,
): (db: DbOrTx, shape: Shape) => Query {
  const kept = new WeakMap<object, Map<Shape, Query>>()
  return (db, shape) => {
    if (is(db, MySqlTransaction)) return prepare(db, shape)
    let byShape = kept.get(db)
    if (byShape === undefined) {
      byShape = new Map()
      kept.set(db, byShape)
    }
    let query = byShape.get(shape)
    if (query === undefined) {
      if (byShape.size >= PREPARED_SHAPES_MAX) byShape.clear()
      query = prepare(db, shape)
      byShape.set(shape, query)
    }
    return query
  }
}
