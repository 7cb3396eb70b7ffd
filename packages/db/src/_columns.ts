import { customType, datetime } from 'drizzle-orm/mysql-core'

/** `DATETIME(3)` in UTC, surfaced as a `Date`. */
export const datetime3 = (name: string) => datetime(name, { mode: 'date', fsp: 3 })

/** `DATETIME` (whole seconds) in UTC, surfaced as a `Date`. */
export const datetimeSec = (name: string) => datetime(name, { mode: 'date' })

/**
 * A JSON column that reads back as a value on both engines: MySQL 8 returns JSON parsed, MariaDB
 * stores JSON as LONGTEXT and returns the text.
 */
export const jsonColumn = <T>(name: string) =>
  customType<{ data: T; driverData: string }>({
    dataType: () => 'json',
    toDriver: (value) => JSON.stringify(value),
    fromDriver: (value) => (typeof value === 'string' ? (JSON.parse(value) as T) : (value as T)),
  })(name)

export const mediumblob = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => 'mediumblob',
})

export const varbinaryBuffer = customType<{ data: Buffer; driverData: Buffer; config: { length: number } }>({
  dataType: (config) => `varbinary(${config?.length ?? 255})`,
})

/** `DATE` (a UTC calendar day), surfaced as its `YYYY-MM-DD` text whichever way the driver returns it. */
export const dateDay = customType<{ data: string; driverData: string | Date }>({
  dataType: () => 'date',
  fromDriver: (value) => (typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10)),
})
