import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type mysql from 'mysql2/promise'
import { DbError, MigrationError } from './errors.js'
import { type Logger, noopLogger } from './logger.js'

/** The table that records which migrations ran (ours; drizzle-kit's own table is not used). */
export const MIGRATIONS_TABLE = 'jetmon_schema_migrations'
const LOCK_NAME = 'jetmon_migrate'

/** One migration file of the migrations folder, split into its statements. */
export interface Migration {
  /** File name without `.sql`, e.g. `0000_init`. */
  tag: string
  /** sha256 of the file: an applied migration must never change. */
  hash: string
  statements: string[]
}

/** What {@link migrationStatus} reports: the migrations that ran, with when, and those still to run. */
export interface MigrationStatus {
  applied: { tag: string; appliedAt: Date }[]
  pending: Migration[]
}

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** The migrations folder; default {@link defaultMigrationsDir}. */
  dir?: string
  logger?: Logger
  /** Called before each migration runs (for progress output). */
  onMigration?: (migration: Migration, index: number, total: number) => void
}

/**
 * Where the migrations live: `JETMON_MIGRATIONS_DIR`, the copy shipped inside this package when
 * published, or the repository's `migrations/` folder found by walking up from here.
 */
export function defaultMigrationsDir(): string {
  if (process.env.JETMON_MIGRATIONS_DIR) return resolve(process.env.JETMON_MIGRATIONS_DIR)
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    for (const candidate of [join(dir, 'migrations'), join(dir, '..', 'migrations')]) {
      if (existsSync(join(candidate, 'meta', '_journal.json'))) return resolve(candidate)
    }
    dir = dirname(dir)
  }
  throw new DbError('MIGRATIONS_NOT_FOUND', 'no migrations folder found; set JETMON_MIGRATIONS_DIR')
}

/** Reads the migrations in journal order. */
export function loadMigrations(dir = defaultMigrationsDir()): Migration[] {
  const journalPath = join(dir, 'meta', '_journal.json')
  if (!existsSync(journalPath)) throw new DbError('MIGRATIONS_NOT_FOUND', `no migration journal at ${journalPath}`)
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { idx: number; tag: string }[] }
  return [...journal.entries]
    .sort((a, b) => a.idx - b.idx)
    .map(({ tag }) => {
      const sql = readFileSync(join(dir, `${tag}.sql`), 'utf8')
      return {
        tag,
        hash: createHash('sha256').update(sql).digest('hex'),
        statements: sql
          .split('--> statement-breakpoint')
          .map((statement) => statement.trim())
          .filter(Boolean),
      }
    })
}

async function ensureTable(conn: mysql.Connection | mysql.PoolConnection): Promise<void> {
  await conn.query(
    `CREATE TABLE IF NOT EXISTS \`${MIGRATIONS_TABLE}\` (
      tag VARCHAR(255) NOT NULL PRIMARY KEY,
      hash CHAR(64) NOT NULL,
      applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  )
}

async function appliedRows(conn: mysql.Connection | mysql.PoolConnection) {
  const [rows] = await conn.query(`SELECT tag, hash, applied_at FROM \`${MIGRATIONS_TABLE}\` ORDER BY tag`)
  return rows as { tag: string; hash: string; applied_at: Date }[]
}

function checkUnmodified(migrations: Migration[], applied: { tag: string; hash: string }[]): void {
  const byTag = new Map(migrations.map((m) => [m.tag, m]))
  for (const row of applied) {
    const current = byTag.get(row.tag)
    if (current && current.hash !== row.hash) {
      throw new MigrationError(
        'MIGRATION_MODIFIED',
        row.tag,
        `migration ${row.tag} was changed after it was applied; applied migrations must never be edited — add a new one instead`,
      )
    }
  }
}

/** Which migrations ran and which are pending, without changing anything. */
export async function migrationStatus(pool: mysql.Pool, options: { dir?: string } = {}): Promise<MigrationStatus> {
  const migrations = loadMigrations(options.dir)
  const [tables] = await pool.query('SHOW TABLES LIKE ?', [MIGRATIONS_TABLE])
  const applied = (tables as unknown[]).length ? await appliedRows(pool as unknown as mysql.Connection) : []
  checkUnmodified(migrations, applied)
  const done = new Set(applied.map((row) => row.tag))
  return {
    applied: applied.map((row) => ({ tag: row.tag, appliedAt: row.applied_at })),
    pending: migrations.filter((m) => !done.has(m.tag)),
  }
}

/**
 * Applies every pending migration once, in order, under a named lock so that two hosts migrating
 * at the same time do not collide. Safe to re-run: applied migrations are skipped.
 *
 * MySQL commits DDL implicitly, so a migration that fails half-way is not rolled back; the error
 * names the migration and the statement so an operator can repair by hand and run again.
 */
export async function migrate(pool: mysql.Pool, options: MigrateOptions = {}): Promise<{ applied: string[] }> {
  const logger = options.logger ?? noopLogger
  const migrations = loadMigrations(options.dir)
  const conn = await pool.getConnection()
  try {
    const [[lock]] = (await conn.query('SELECT GET_LOCK(?, 60) AS got', [LOCK_NAME])) as [{ got: number }[], unknown]
    if (lock?.got !== 1) throw new DbError('MIGRATION_FAILED', 'another process has held the migration lock for 60 s')
    try {
      await ensureTable(conn)
      const applied = await appliedRows(conn)
      checkUnmodified(migrations, applied)
      const done = new Set(applied.map((row) => row.tag))
      const pending = migrations.filter((m) => !done.has(m.tag))
      for (const [index, migration] of pending.entries()) {
        options.onMigration?.(migration, index, pending.length)
        for (const [n, statement] of migration.statements.entries()) {
          try {
            await conn.query(statement)
          } catch (error) {
            throw new MigrationError(
              'MIGRATION_FAILED',
              migration.tag,
              `migration ${migration.tag} failed at statement ${n + 1} of ${migration.statements.length}: ${(error as Error).message}`,
              { cause: error },
            )
          }
        }
        await conn.query(`INSERT INTO \`${MIGRATIONS_TABLE}\` (tag, hash) VALUES (?, ?)`, [
          migration.tag,
          migration.hash,
        ])
        logger.info({ migration: migration.tag }, 'migration applied')
      }
      return { applied: pending.map((m) => m.tag) }
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [LOCK_NAME])
    }
  } finally {
    conn.release()
  }
}
