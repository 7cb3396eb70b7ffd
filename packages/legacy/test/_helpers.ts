import { type DbOrTx, events, eventTransitions, monitorSites } from '@jetmon/db'
import { asc, inArray, sql } from 'drizzle-orm'

/** A v1 row as v1 leaves it; every field but the URL has v1's default. */
export interface V1Row {
  blogId: bigint
  monitorUrl: string
  bucketNo?: number
  monitorActive?: 0 | 1
  siteStatus?: number
  lastStatusChange?: Date | null
  checkInterval?: number
}

/** Inserts v1 rows in one statement and returns their ids, in order. */
export async function insertV1Rows(db: DbOrTx, rows: V1Row[]): Promise<bigint[]> {
  const [header] = await db.insert(monitorSites).values(
    rows.map((row) => ({
      blogId: row.blogId,
      monitorUrl: row.monitorUrl,
      bucketNo: row.bucketNo ?? 0,
      monitorActive: row.monitorActive ?? 1,
      siteStatus: row.siteStatus ?? 1,
      lastStatusChange: row.lastStatusChange ?? null,
      checkInterval: row.checkInterval ?? 5,
    })),
  )
  // One multi-row INSERT takes consecutive ids from the first.
  const first = BigInt(header.insertId)
  return rows.map((_, index) => first + BigInt(index))
}

export async function eventsOf(db: DbOrTx, endpointIds: bigint[]) {
  if (endpointIds.length === 0) return []
  return db.select().from(events).where(inArray(events.endpointId, endpointIds)).orderBy(asc(events.id))
}

export async function transitionsOf(db: DbOrTx, endpointIds: bigint[]) {
  if (endpointIds.length === 0) return []
  return db
    .select()
    .from(eventTransitions)
    .where(inArray(eventTransitions.endpointId, endpointIds))
    .orderBy(asc(eventTransitions.id))
}

export async function totalRows(db: DbOrTx): Promise<{ events: number; transitions: number }> {
  const [row] = (await db.execute(sql`
    SELECT (SELECT COUNT(*) FROM ${events}) AS events, (SELECT COUNT(*) FROM ${eventTransitions}) AS transitions`)) as unknown as [
    { events: number | string; transitions: number | string }[],
  ]
  return { events: Number(row[0]?.events ?? 0), transitions: Number(row[0]?.transitions ?? 0) }
}
