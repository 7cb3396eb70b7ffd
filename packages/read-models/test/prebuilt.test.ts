/** A prebuilt statement renders its template once and binds each call's values to its placeholders. */
import { monitorSites } from '@jetmon/db'
import { sql } from 'drizzle-orm'
import { MySqlDialect } from 'drizzle-orm/mysql-core'
import { describe, expect, it } from 'vitest'
import { prebuilt } from '../src/prebuilt.js'

const dialect = new MySqlDialect()

describe('prebuilt', () => {
  it('renders the template once and binds the values of each call, as rendering it with them would', () => {
    const template = (after: unknown, span: unknown) =>
      sql`SELECT ${monitorSites.blogId} FROM ${monitorSites} WHERE ${monitorSites.blogId} > ${after}
        AND ${monitorSites.monitorUrl} LIKE ${'%x%'} AND ${monitorSites.blogId} < ${after} + ${span}`
    let renders = 0
    const statement = prebuilt(() => {
      renders++
      return template(sql.placeholder('after'), sql.placeholder('span'))
    })
    const at = new Date('2026-05-01T00:00:00.000Z')
    for (const [after, span] of [
      [10n, at],
      [20n, 5],
    ] as const) {
      const bound = dialect.sqlToQuery(statement({ after, span }))
      expect(bound).toMatchObject({ params: [after, '%x%', after, span] })
      expect(bound).toEqual(dialect.sqlToQuery(template(after, span)))
    }
    expect(renders).toBe(1)
  })

  it('refuses a template whose text holds a literal question mark', () => {
    const statement = prebuilt(() => sql`SELECT '?' FROM DUAL WHERE 1 = ${sql.placeholder('one')}`)
    expect(() => statement({ one: 1 })).toThrow(/literal "\?"/)
  })
})
