import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { Column, is, type SQL } from 'drizzle-orm'
import { getTableConfig, MySqlTable } from 'drizzle-orm/mysql-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ScratchDatabase } from '../src/index.js'
import { defaultMigrationsDir, MIGRATIONS_TABLE } from '../src/index.js'
import * as schema from '../src/schema.js'
import { scratchDatabase } from './helpers.js'

const tables: MySqlTable[] = Object.values(schema).filter((value) => is(value, MySqlTable))

/** COLUMN_TYPE as both engines report it, reduced to what the drizzle schema states. */
function normalise(type: string): string {
  return type
    .toLowerCase()
    .replace(/^(tinyint|smallint|mediumint|int|bigint)\(\d+\)/, '$1')
    .replace(/^boolean$/, 'tinyint')
    .replace(/^longtext$/, 'json') // MariaDB stores JSON as LONGTEXT with a json_valid check
    .replace(/^json$/, 'json')
}

/** A plain column, or the column of a part written as SQL: a prefix (`monitor_url(191)`) or a direction (`severity desc`). */
function indexedColumnName(part: unknown): string {
  if (is(part, Column)) return part.name
  const chunks = (part as SQL).queryChunks.flatMap((chunk) =>
    is(chunk, Column) ? [chunk.name] : ((chunk as { value?: string[] }).value ?? []),
  )
  return chunks
    .join('')
    .replace(/\(\d+\)$/, '')
    .replace(/ (asc|desc)$/i, '')
}

let t: ScratchDatabase
beforeAll(async () => {
  t = await scratchDatabase()
})
afterAll(async () => {
  await t?.drop()
})

async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const [rows] = await t.pool.query(sql, params)
  return rows as T[]
}

describe('schema and migrations', () => {
  it('creates exactly the tables of the schema', async () => {
    const rows = await query<{ TABLE_NAME: string }>(
      'SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()',
    )
    const actual = rows.map((r) => r.TABLE_NAME).filter((n) => n !== MIGRATIONS_TABLE)
    expect(actual.sort()).toEqual(tables.map((table) => getTableConfig(table).name).sort())
  })

  it.each(tables.map((table) => [getTableConfig(table).name, table] as const))(
    '%s has the columns, types, nullability and indexes of the schema',
    async (name, table) => {
      const config = getTableConfig(table)
      const columns = await query<{ COLUMN_NAME: string; COLUMN_TYPE: string; IS_NULLABLE: string; EXTRA: string }>(
        'SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
        [name],
      )
      const expected = config.columns.map((c) => ({
        name: c.name,
        type: normalise(c.getSQLType()),
        nullable: !c.notNull && !c.primary,
      }))
      const actual = columns.map((c) => ({
        name: c.COLUMN_NAME,
        type: normalise(c.COLUMN_TYPE),
        nullable: c.IS_NULLABLE === 'YES',
      }))
      expect(actual).toEqual(expected)

      const generated = config.columns.filter((c) => c.generated).map((c) => c.name)
      expect(columns.filter((c) => /GENERATED/i.test(c.EXTRA)).map((c) => c.COLUMN_NAME)).toEqual(generated)

      const stats = await query<{ INDEX_NAME: string; COLUMN_NAME: string; NON_UNIQUE: number; SEQ_IN_INDEX: number }>(
        'SELECT INDEX_NAME, COLUMN_NAME, NON_UNIQUE, SEQ_IN_INDEX FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX',
        [name],
      )
      const actualIndexes = new Map<string, { columns: string[]; unique: boolean }>()
      for (const s of stats) {
        if (s.INDEX_NAME === 'PRIMARY') continue
        const entry = actualIndexes.get(s.INDEX_NAME) ?? { columns: [], unique: Number(s.NON_UNIQUE) === 0 }
        entry.columns.push(s.COLUMN_NAME)
        actualIndexes.set(s.INDEX_NAME, entry)
      }
      const expectedIndexes = new Map<string, { columns: string[]; unique: boolean }>()
      for (const index of config.indexes) {
        expectedIndexes.set(index.config.name, {
          columns: index.config.columns.map(indexedColumnName),
          unique: Boolean(index.config.unique),
        })
      }
      for (const column of config.columns.filter((c) => c.isUnique)) {
        expectedIndexes.set(column.uniqueName ?? `${column.name}_unique`, { columns: [column.name], unique: true })
      }
      for (const constraint of config.uniqueConstraints) {
        expectedIndexes.set(constraint.getName() ?? '', {
          columns: constraint.columns.map((c) => c.name),
          unique: true,
        })
      }
      expect(Object.fromEntries(actualIndexes)).toEqual(Object.fromEntries(expectedIndexes))

      const primary = stats.filter((s) => s.INDEX_NAME === 'PRIMARY').map((s) => s.COLUMN_NAME)
      const expectedPrimary = config.primaryKeys.length
        ? config.primaryKeys[0]!.columns.map((c) => c.name)
        : config.columns.filter((c) => c.primary).map((c) => c.name)
      expect(primary).toEqual(expectedPrimary)
    },
  )

  it('has no schema change that lacks a migration (drizzle-kit generate finds nothing to do)', () => {
    const out = mkdtempSync(join(tmpdir(), 'jetmon-migrations-'))
    try {
      cpSync(defaultMigrationsDir(), out, { recursive: true })
      const before = readdirSync(out).sort()
      const cwd = join(import.meta.dirname, '..')
      // drizzle-kit only understands an output folder relative to its working directory.
      const run = spawnSync('pnpm', ['exec', 'drizzle-kit', 'generate'], {
        cwd,
        env: { ...process.env, JETMON_MIGRATIONS_OUT: relative(cwd, out) },
        encoding: 'utf8',
      })
      const printed = `${run.stdout}${run.stderr}`
      expect(run.status, printed).toBe(0)
      expect(readdirSync(out).sort(), printed).toEqual(before)
      expect(printed).toMatch(/No schema changes/)
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  }, 60_000)
})
