/**
 * A database failure is logged without the query's parameters: webhook secrets and URLs, alert
 * destinations and custom header values never reach the log, even when the insert that carried
 * them fails. Runs the API with the real pino root logger on a database whose inserts are made to
 * fail by triggers.
 */
import { PassThrough } from 'node:stream'
import { createApiKey } from '@jetmon/api-keys'
import { createLogger } from '@jetmon/logging'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiApp, startApiServer } from '../src/index.js'
import { envelopeOf } from './_helpers.js'

const lines: string[] = []
const stream = new PassThrough()
stream.on('data', (chunk) => lines.push(String(chunk)))
const logger = createLogger({ format: 'json', destination: stream, level: 'debug' })

let database: TestDatabase
let server: Awaited<ReturnType<typeof startApiServer>>
let token = ''

beforeAll(async () => {
  database = await createTestDatabase()
  for (const table of ['jetmon_webhooks', 'jetmon_alert_contacts', 'jetmon_endpoint_config']) {
    await database.db.execute(
      sql.raw(
        `CREATE TRIGGER fail_${table} BEFORE INSERT ON ${table} FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'inserts are switched off for this test'`,
      ),
    )
  }
  server = await startApiServer(createApiApp({ db: database.db, logger, allowPrivateTargets: true }), { port: 0 })
  token = (
    await createApiKey({ ctx: { db: database.db }, input: { consumer: 'logs', scope: 'write', createdBy: 'test' } })
  ).token
})

afterAll(async () => {
  await server?.close(1_000)
  await database?.drop()
})

async function post(path: string, body: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: response.status, error: await envelopeOf(response) }
}

/** Waits until the log holds a line naming this request. */
async function logged(requestId: string): Promise<string> {
  for (let i = 0; i < 200 && !lines.join('').includes(requestId); i++) await new Promise((r) => setImmediate(r))
  const text = lines.join('')
  expect(text).toContain(requestId)
  return text
}

describe('database errors in the log', () => {
  it('name the failed statement and the driver error, never the parameters', async () => {
    const webhook = await post('/webhooks', {
      url: 'https://hooks.example/receiver-with-path-secret-4242',
      events: ['event.opened'],
    })
    const contact = await post('/alert-contacts', {
      label: 'on call',
      transport: 'slack',
      destination: { webhook_url: 'https://hooks.slack.com/services/T000/B000/slack-token-8686' },
    })
    const site = await post('/sites', {
      blog_id: '77',
      monitor_url: 'https://site.example/',
      custom_headers: { 'X-Origin-Auth': 'header-value-5151' },
    })
    for (const answer of [webhook, contact, site]) {
      expect(answer.status).toBe(500)
      expect(answer.error.code).toBe('internal_error')
    }
    const text = await logged(site.error.request_id)
    await logged(webhook.error.request_id)
    await logged(contact.error.request_id)

    for (const secret of ['whsec_', 'receiver-with-path-secret-4242', 'slack-token-8686', 'header-value-5151']) {
      expect(text, `the log leaks ${secret}`).not.toContain(secret)
    }
    // What an operator needs is still there: the statement and what the database said.
    expect(text).toContain('insert into `jetmon_webhooks`')
    expect(text).toContain('inserts are switched off for this test')
    expect(text).toMatch(/"code":"ER_SIGNAL_EXCEPTION"/)
  })
})
