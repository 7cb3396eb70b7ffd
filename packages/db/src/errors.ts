/** Stable codes callers can match on; apps map them to exit codes. */
export type DbErrorCode =
  | 'MARIADB_NOT_FOUND'
  | 'EMBEDDED_DATABASE_FAILED'
  | 'INVALID_DATABASE_URL'
  | 'MIGRATION_FAILED'
  | 'MIGRATION_MODIFIED'
  | 'MIGRATIONS_NOT_FOUND'

export class DbError extends Error {
  readonly code: DbErrorCode
  constructor(code: DbErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

export class MariadbNotFoundError extends DbError {
  constructor(message: string) {
    super('MARIADB_NOT_FOUND', message)
  }
}

export class EmbeddedDatabaseError extends DbError {
  constructor(message: string, options?: ErrorOptions) {
    super('EMBEDDED_DATABASE_FAILED', message, options)
  }
}

export class InvalidDatabaseUrlError extends DbError {
  constructor(message: string) {
    super('INVALID_DATABASE_URL', message)
  }
}

export class MigrationError extends DbError {
  /** The migration's tag, e.g. `0003_delivery_indexes`. */
  readonly migration: string
  constructor(
    code: 'MIGRATION_FAILED' | 'MIGRATION_MODIFIED',
    migration: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options)
    this.migration = migration
  }
}
