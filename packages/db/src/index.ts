export { type AuditEntry, recordAudit } from './audit.js'
export { type EndpointSettings, upsertBlogEndpoint } from './blog-endpoint.js'
export {
  createDatabase,
  type Database,
  type DatabaseSettings,
  type Db,
  databaseUrlFrom,
  poolOf,
  poolOptionsFromUrl,
  redactDatabaseUrl,
  type Schema,
} from './connection.js'
export { dateTimeIso, dateTimeMs } from './datetime.js'
export {
  type EmbeddedMariadb,
  type EmbeddedMariadbOptions,
  findMariadbd,
  runningEmbeddedMariadb,
  startEmbeddedMariadb,
  stopEmbeddedMariadb,
} from './embedded.js'
export * from './errors.js'
export { type Logger, noopLogger } from './logger.js'
export {
  defaultMigrationsDir,
  loadMigrations,
  MIGRATIONS_TABLE,
  type MigrateOptions,
  type Migration,
  type MigrationStatus,
  migrate,
  migrationStatus,
} from './migrate.js'
export { type NamedLockContext, type NamedLockOutcome, withNamedLock } from './named-lock.js'
export { PREPARED_SHAPES_MAX, preparedPerDatabase } from './prepared.js'
export {
  listProcessHealth,
  type ProcessHealth,
  type ProcessHealthReport,
  writeProcessHealth,
} from './process-health.js'
export * from './schema.js'
export { createScratchDatabase, type ScratchDatabase } from './scratch.js'
export { pingDatabase, serverVersion } from './server.js'
export { importSiteTenants, type SiteTenantCounts, type SiteTenantMapping } from './site-tenants.js'
export { type DbOrTx, isDeadlock, rerunDeadlockVictim, type Tx, withTransaction } from './transaction.js'
