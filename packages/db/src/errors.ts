/** Stable codes callers can match on; apps map them to exit codes. */
export type DbErrorCode =
  | 'MARIADB_NOT_FOUND'
  | 'EMBEDDED_DATABASE_FAILED'
  | 'INVALID_DATABASE_URL'
  | 'MIGRATION_FAILED'
  | 'MIGRATION_MODIFIED'
  | 'MIGRATIONS_NOT_FOUND'

/** Base class of every error thrown by `@jetmon/db`. */
export class DbError extends Error {
  readonly code: DbErrorCode
  constructor(code: DbErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** No MariaDB server binary (`mariadbd`, `mariadb-install-db`) was found to run an embedded database. */
export class MariadbNotFoundError extends DbError {
  constructor(message: string) {
    super('MARIADB_NOT_FOUND', message)
  }
}

/** The embedded MariaDB server could not be initialised or started; the message ends with its error log. */
export class EmbeddedDatabaseError extends DbError {
  constructor(message: string, options?: ErrorOptions) {
    super('EMBEDDED_DATABASE_FAILED', message, options)
  }
}

/** `DATABASE_URL` is not a `mysql://` or `mariadb://` URL that names a database. */
export class InvalidDatabaseUrlError extends DbError {
  constructor(message: string) {
    super('INVALID_DATABASE_URL', message)
  }
}

/**
 * A migration failed half-way (`MIGRATION_FAILED`; MySQL commits DDL, so nothing was rolled back)
 * or an applied migration's file has changed since it ran (`MIGRATION_MODIFIED`).
 */
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
