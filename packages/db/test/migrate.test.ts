import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  defaultMigrationsDir,
  loadMigrations,
  MigrationError,
  migrate,
  migrationStatus,
  type ScratchDatabase,
} from '../src/index.js'
import { scratchDatabase } from './helpers.js'

const dirs: string[] = []
function migrationsCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'jetmon-mig-'))
  cpSync(defaultMigrationsDir(), dir, { recursive: true })
  dirs.push(dir)
  return dir
}

/** Appends a migration to a copied folder, as drizzle-kit would. */
function addMigration(dir: string, tag: string, sql: string): void {
  const journalPath = join(dir, 'meta', '_journal.json')
  const journal = JSON.parse(readFileSync(journalPath, 'utf8'))
  journal.entries.push({ idx: journal.entries.length, version: '5', when: Date.now(), tag, breakpoints: true })
  writeFileSync(journalPath, JSON.stringify(journal))
  writeFileSync(join(dir, `${tag}.sql`), sql)
}

let t: ScratchDatabase
beforeEach(async () => {
  t = await scratchDatabase({ migrate: false })
})
afterEach(async () => {
  await t.drop()
})
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('migrate', () => {
  it('applies every migration once and nothing on a second run', async () => {
    const all = loadMigrations().map((m) => m.tag)
    expect(await migrate(t.pool)).toEqual({ applied: all })
    expect(await migrate(t.pool)).toEqual({ applied: [] })
    const status = await migrationStatus(t.pool)
    expect(status.pending).toEqual([])
    expect(status.applied.map((a) => a.tag)).toEqual(all)
  })

  it('reports pending migrations without applying them', async () => {
    const status = await migrationStatus(t.pool)
    expect(status.applied).toEqual([])
    expect(status.pending.map((m) => m.tag)).toEqual(loadMigrations().map((m) => m.tag))
  })

  it('lets two concurrent runs apply each migration exactly once', async () => {
    const [a, b] = await Promise.all([migrate(t.pool), migrate(t.pool)])
    expect([...a.applied, ...b.applied].sort()).toEqual(loadMigrations().map((m) => m.tag))
  })

  it('names the failing migration and statement, and records nothing for it', async () => {
    const dir = migrationsCopy()
    addMigration(
      dir,
      '9000_broken',
      'CREATE TABLE jt_ok (id INT)\n--> statement-breakpoint\nALTER TABLE no_such_table ADD x INT',
    )
    const error = await migrate(t.pool, { dir }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    expect(error).toMatchObject({ code: 'MIGRATION_FAILED', migration: '9000_broken' })
    expect((error as Error).message).toMatch(/9000_broken failed at statement 2 of 2/)
    const status = await migrationStatus(t.pool, { dir })
    expect(status.pending.map((m) => m.tag)).toEqual(['9000_broken'])
  })

  it('refuses to run when an applied migration was edited', async () => {
    const dir = migrationsCopy()
    await migrate(t.pool, { dir })
    const first = loadMigrations(dir)[0]!
    writeFileSync(join(dir, `${first.tag}.sql`), `${readFileSync(join(dir, `${first.tag}.sql`), 'utf8')}\n-- edited`)
    await expect(migrate(t.pool, { dir })).rejects.toMatchObject({ code: 'MIGRATION_MODIFIED', migration: first.tag })
  })
})
