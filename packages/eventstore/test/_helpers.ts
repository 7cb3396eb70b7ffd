import { type DbOrTx, events, eventTransitions, monitorSites } from '@jetmon/db'
import { asc, eq, sql } from 'drizzle-orm'
import type { EventStoreContext } from '../src/index.js'

let lastBlogId = 1_000_000n
/** A blog id no other test of this file uses. */
export const newBlogId = (): bigint => ++lastBlogId

export function contextFor(db: DbOrTx, overrides: Partial<EventStoreContext> = {}): EventStoreContext {
  return { db, source: 'monitor:test-host', ...overrides }
}

/** Inserts an endpoint row (`jetpack_monitor_sites`) for the blog and returns its id. */
export async function insertEndpoint(db: DbOrTx, blogId: bigint, url = `https://${blogId}.example`): Promise<bigint> {
  const [header] = await db.insert(monitorSites).values({ blogId, monitorUrl: url })
  return BigInt(header.insertId)
}

export async function siteStatusOf(db: DbOrTx, endpointId: bigint) {
  const [row] = await db
    .select({ siteStatus: monitorSites.siteStatus, lastStatusChange: monitorSites.lastStatusChange })
    .from(monitorSites)
    .where(eq(monitorSites.endpointId, endpointId))
  if (!row) throw new Error(`no endpoint ${endpointId}`)
  return row
}

export async function eventRowsOf(db: DbOrTx, blogId: bigint) {
  return db.select().from(events).where(eq(events.blogId, blogId)).orderBy(asc(events.id))
}

export async function transitionRowsOf(db: DbOrTx, blogId: bigint) {
  return db.select().from(eventTransitions).where(eq(eventTransitions.blogId, blogId)).orderBy(asc(eventTransitions.id))
}

export async function countRows(db: DbOrTx, blogId: bigint) {
  const [row] = (await db.execute(sql`
    SELECT
      (SELECT COUNT(*) FROM ${events} WHERE blog_id = ${blogId}) AS events,
      (SELECT COUNT(*) FROM ${eventTransitions} WHERE blog_id = ${blogId}) AS transitions`)) as unknown as [
    { events: number | string; transitions: number | string }[],
  ]
  return { events: Number(row[0]?.events), transitions: Number(row[0]?.transitions) }
}
