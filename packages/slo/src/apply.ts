/**
 * Applying OpenSLO documents: each document's objective is created, or the caller's active
 * objective of that name is updated, or it is left alone when nothing differs — so applying the
 * same documents twice changes nothing the second time. Objectives no document names are not
 * touched. A dry run reads the same plan and writes nothing.
 */
import { type DbOrTx, sloObjectives, withTransaction } from '@jetmon/db'
import { and, eq, inArray } from 'drizzle-orm'
import { InvalidObjectiveError, type ObjectiveIssue, SiteNotFoundError } from './errors.js'
import type { ObjectiveFields } from './objectives.js'
import { DOCUMENT_FIELDS, documentFieldPath, type OpenSloObjective, objectivesFromOpenSlo } from './openslo.js'
import {
  checkScope,
  createObjective,
  getObjective,
  type Objective,
  objectiveFields,
  type SloContext,
  updateObjective,
} from './store.js'

/** One field an apply changes, in wire form (ids as decimal strings). */
export interface AppliedChange {
  field: (typeof DOCUMENT_FIELDS)[number]
  from: unknown
  to: unknown
}

/** What an apply does (or, in a dry run, would do) with one document. */
export interface AppliedDocument {
  /** The document's index in the stream. */
  index: number
  name: string
  action: 'create' | 'update' | 'unchanged'
  /** The objective after the apply; in a dry run the current one (null for a create). */
  objective: Objective | null
  /** The fields that differ (every field of the document for a create). */
  changes: AppliedChange[]
}

export interface ApplyReport {
  dryRun: boolean
  documents: AppliedDocument[]
}

/** A field's value in wire form, comparable with `JSON.stringify`. */
function wireValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  return value
}

function changesOf(current: ObjectiveFields | null, next: ObjectiveFields): AppliedChange[] {
  const out: AppliedChange[] = []
  for (const field of DOCUMENT_FIELDS) {
    const from = current === null ? null : wireValue(current[field])
    const to = wireValue(next[field])
    if (current === null || JSON.stringify(from) !== JSON.stringify(to)) out.push({ field, from, to })
  }
  return out
}

/** The caller's active objectives of these names (names compare as the database compares them). */
async function activeByName(db: DbOrTx, tenantId: string | null, names: string[]): Promise<Map<string, bigint>> {
  const rows = await db
    .select({ id: sloObjectives.id, name: sloObjectives.name })
    .from(sloObjectives)
    .where(
      and(
        eq(sloObjectives.ownerKey, tenantId ?? ''),
        eq(sloObjectives.active, true),
        inArray(sloObjectives.activeName, names),
      ),
    )
  return new Map(rows.map((row) => [row.name.toLowerCase(), row.id]))
}

/** Checks each document's site and endpoint against what the caller may see; problems by path. */
async function checkScopes(db: DbOrTx, tenantId: string | null, entries: readonly OpenSloObjective[]): Promise<void> {
  const issues: ObjectiveIssue[] = []
  for (const { index, fields } of entries) {
    try {
      await checkScope(db, tenantId, fields)
    } catch (error) {
      if (error instanceof SiteNotFoundError) {
        issues.push({ path: documentFieldPath('blog_id', index), message: `site ${fields.blog_id} not found` })
      } else if (error instanceof InvalidObjectiveError) {
        for (const issue of error.issues) {
          const field = issue.path as (typeof DOCUMENT_FIELDS)[number]
          issues.push({ path: documentFieldPath(field, index), message: issue.message })
        }
      } else throw error
    }
  }
  if (issues.length > 0) throw new InvalidObjectiveError(issues)
}

/**
 * Applies OpenSLO v1 documents (YAML or JSON text, one parsed document, or a list of them) as the
 * caller's objectives: by name, create the missing ones and update those that differ, all in one
 * transaction; with `dryRun`, only report what would change.
 * @throws {InvalidObjectiveError} naming each problem by its document path (nothing is written):
 *   invalid documents, and sites or endpoints the caller cannot see.
 * @throws {ObjectiveNameTakenError} when another writer took a name between the plan and the write.
 */
export async function applyOpenSlo({
  ctx,
  tenantId,
  createdBy,
  documents,
  dryRun = false,
}: {
  ctx: SloContext
  tenantId: string | null
  /** Who creates new objectives, e.g. the API key's consumer name. */
  createdBy: string
  documents: unknown
  dryRun?: boolean
}): Promise<ApplyReport> {
  const entries = objectivesFromOpenSlo(documents)
  const plan = async (db: DbOrTx) => {
    await checkScopes(db, tenantId, entries)
    const existing = await activeByName(
      db,
      tenantId,
      entries.map((entry) => entry.fields.name),
    )
    const out: { entry: OpenSloObjective; current: Objective | null; changes: AppliedChange[] }[] = []
    for (const entry of entries) {
      const id = existing.get(entry.fields.name.toLowerCase())
      const current = id === undefined ? null : await getObjective({ ctx: { ...ctx, db }, tenantId, id })
      out.push({ entry, current, changes: changesOf(current && objectiveFields(current), entry.fields) })
    }
    return out
  }
  const action = (current: Objective | null, changes: AppliedChange[]): AppliedDocument['action'] =>
    current === null ? 'create' : changes.length > 0 ? 'update' : 'unchanged'

  if (dryRun) {
    const steps = await plan(ctx.db)
    return {
      dryRun: true,
      documents: steps.map(({ entry, current, changes }) => ({
        index: entry.index,
        name: entry.fields.name,
        action: action(current, changes),
        objective: current,
        changes,
      })),
    }
  }
  return withTransaction(ctx.db, async (tx) => {
    const inner: SloContext = { ...ctx, db: tx }
    const steps = await plan(tx)
    const documentsOut: AppliedDocument[] = []
    for (const { entry, current, changes } of steps) {
      const kind = action(current, changes)
      let objective = current
      if (kind === 'create') {
        objective = await createObjective({ ctx: inner, tenantId, createdBy, fields: entry.fields })
      } else if (kind === 'update' && current) {
        const patch = Object.fromEntries(changes.map((change) => [change.field, entry.fields[change.field]]))
        objective = await updateObjective({ ctx: inner, tenantId, id: current.id, changes: patch })
      }
      documentsOut.push({ index: entry.index, name: entry.fields.name, action: kind, objective, changes })
    }
    return { dryRun: false, documents: documentsOut }
  })
}
