/**
 * Answers that carry a secret shown once (an API token, a webhook signing secret) are never
 * stored by the idempotency records: only their status is, and a replay is a clear 409.
 */
import { idempotencyKeys } from '@jetmon/db'
import { describe, expect, it } from 'vitest'
import { envelopeOf, useTestApi } from './_helpers.js'

const harness = useTestApi()

async function post(path: string, body: unknown, key: string) {
  const response = await harness().fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  })
  return {
    status: response.status,
    replayed: response.headers.get('idempotency-replayed'),
    text: await response.text(),
  }
}

/** Every stored idempotency record, as text. */
async function storedRecords(): Promise<string> {
  const rows = await harness().database.db.select().from(idempotencyKeys)
  return rows
    .map((row) => `${JSON.stringify(row.responseHeaders)} ${row.responseBody?.toString('utf8') ?? ''}`)
    .join('\n')
}

describe('idempotency of answers that carry a secret', () => {
  it('stores no token or signing secret, and answers a replay with 409 idempotency_replay_withheld', async () => {
    const key = await post('/keys', { consumer: 'ci-bot', scope: 'read' }, 'secret-key-create')
    expect(key.status).toBe(201)
    const created = JSON.parse(key.text) as { key: { id: number }; token: string }
    expect(created.token).toMatch(/^jm_/)

    const rotated = await post(`/keys/${created.key.id}/rotate`, { grace_seconds: 60 }, 'secret-key-rotate')
    expect(rotated.status).toBe(201)
    const newToken = (JSON.parse(rotated.text) as { token: string }).token

    const hook = await post('/webhooks', { url: 'https://receiver.example/hook' }, 'secret-webhook-create')
    expect(hook.status).toBe(201)
    const webhook = JSON.parse(hook.text) as { webhook: { id: number }; secret: string }
    expect(webhook.secret).toMatch(/^whsec_/)

    const rotatedHook = await post(
      `/webhooks/${webhook.webhook.id}/rotate-secret`,
      { grace_seconds: 0 },
      'secret-webhook-rotate',
    )
    expect(rotatedHook.status).toBe(200)
    const newSecret = (JSON.parse(rotatedHook.text) as { secret: string }).secret

    const stored = await storedRecords()
    for (const secret of [created.token, newToken, webhook.secret, newSecret]) {
      expect(stored, 'an idempotency record holds a secret').not.toContain(secret)
    }
    expect(stored).not.toMatch(/jm_|whsec_/)

    for (const [path, body, idem] of [
      ['/keys', { consumer: 'ci-bot', scope: 'read' }, 'secret-key-create'],
      [`/keys/${created.key.id}/rotate`, { grace_seconds: 60 }, 'secret-key-rotate'],
      ['/webhooks', { url: 'https://receiver.example/hook' }, 'secret-webhook-create'],
      [`/webhooks/${webhook.webhook.id}/rotate-secret`, { grace_seconds: 0 }, 'secret-webhook-rotate'],
    ] as const) {
      const replay = await harness().fetch(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': idem },
        body: JSON.stringify(body),
      })
      expect(replay.status, path).toBe(409)
      const error = await envelopeOf(replay)
      expect(error.code).toBe('idempotency_replay_withheld')
      expect(error.message).toMatch(/never stored/)
    }
  })

  it('still replays an error answer of those routes, and every answer of other routes', async () => {
    const refused = await post('/keys/999999/rotate', { grace_seconds: 0 }, 'secret-missing-key')
    expect(refused.status).toBe(404)
    const again = await post('/keys/999999/rotate', { grace_seconds: 0 }, 'secret-missing-key')
    expect(again).toEqual({ ...refused, replayed: 'true' })

    const body = { blog_id: '4242', monitor_url: 'https://plain.example/' }
    const site = await post('/sites', body, 'secret-plain-site')
    expect(site.status).toBe(201)
    expect(await post('/sites', body, 'secret-plain-site')).toEqual({ ...site, replayed: 'true' })
  })
})
