import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, test } from 'vitest'
import { apiCommand } from '../src/api.js'
import { listCommands } from '../src/commands/catalog.js'
import { cliFor, useTestServer } from './_server.js'
import { jetmon2 } from './helpers.js'

const server = useTestServer()
const api = cliFor(server)
type Answer = Record<string, unknown> & { data: Record<string, unknown>[] }
const json = <T = Answer>(stdout: string) => JSON.parse(stdout) as T
// biome-ignore lint/suspicious/noControlCharactersInRegex: what must never reach a terminal
const CONTROLS = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]/

// Each test spawns the real binary a few times (a second or more each on a busy machine); they run
// side by side, each with its own blog ids.
describe.concurrent('jetmon2 api against a real API server', { timeout: 300_000 }, () => {
  test('health: a table for people, JSON for pipes', async () => {
    const table = await api(['health', '--output', 'table'])
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toMatch(/^status +ok$/m)
    expect(table.stdout).toMatch(new RegExp(`^api +${server().url}/api/v1$`, 'm'))
    const piped = await api(['health'])
    expect(piped.code).toBe(0)
    expect(JSON.parse(piped.stdout)).toEqual({ status: 'ok' })
  })

  test('me: the calling key, as a table and as (pretty) JSON; no token is a usage error', async () => {
    const table = await api(['me', '--output', 'table'])
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toMatch(/^consumer +cli-write$/m)
    expect(table.stdout).toMatch(/^scope +write$/m)
    const pretty = await api(['me', '--output', 'json', '--pretty'], { scope: 'read' })
    expect(pretty.stdout).toMatch(/^ {2}"consumer": "cli-read",$/m)
    expect(json(pretty.stdout)).toMatchObject({ consumer: 'cli-read', scope: 'read', key_id: expect.any(Number) })
    const anonymous = await api(['me'], { scope: null })
    expect(anonymous.code).toBe(2)
    expect(anonymous.stderr).toMatch(/GET \/me needs an API token, and none is configured: pass --token-file/)
  })

  test('usage errors exit 2 with the command help and a path: message line', async () => {
    const missing = await api(['sites', 'get'])
    expect(missing.code).toBe(2)
    expect(missing.stdout).toMatch(/USAGE.*sites get/)
    expect(missing.stderr).toMatch(/Missing required positional argument: BLOG_ID/)

    const typo = await api(['sites', 'list', '--limt', '5'])
    expect(typo.code).toBe(2)
    expect(typo.stderr).toMatch(/unknown option --limt \(did you mean --limit\?\)/)

    const badValue = await api([
      'sites',
      'create',
      '--blog-id',
      '7',
      '--monitor-url',
      'ftp://example.com/',
      '--timeout-ms',
      '1',
    ])
    expect(badValue.code).toBe(2)
    expect(badValue.stderr).toMatch(/^error: --monitor-url: must use http or https$/m)

    const badArg = await api(['sites', 'get', 'forty-two'])
    expect(badArg.code).toBe(2)
    expect(badArg.stderr).toMatch(/BLOG_ID: must be a positive decimal integer/)

    const badQuery = await api(['sites', 'list', '--limit', '500'])
    expect(badQuery.code).toBe(2)
    expect(badQuery.stderr).toMatch(/--limit: must be at most 200/)
  })

  test('API errors exit 1 and print the envelope: code, status, message, request id', async () => {
    const table = await api(['sites', 'get', '999999', '--output', 'table'])
    expect(table.code).toBe(1)
    expect(table.stderr).toMatch(/^error: site_not_found \(HTTP 404\): .*999999/m)
    expect(table.stderr).toMatch(/^ {2}request id: cli_[0-9a-f]{32}$/m)
    expect(table.stdout).toBe('')

    const piped = await api(['sites', 'get', '999999'])
    expect(piped.code).toBe(1)
    expect(json(piped.stdout)).toEqual({
      error: {
        status: 404,
        code: 'site_not_found',
        message: expect.any(String),
        request_id: expect.stringMatching(/^cli_/),
      },
    })

    const scope = await api(['sites', 'create', '--blog-id', '7001', '--monitor-url', 'https://a.example/'], {
      scope: 'read',
    })
    expect(scope.code).toBe(1)
    expect(scope.stderr).toMatch(/insufficient_scope \(HTTP 403\): this route needs the write scope; this key has read/)
  })

  test('writes to a remote API need --allow-remote (and bulk/smoke a --batch): exit 2 before anything is sent', async () => {
    const remote = { env: { JETMON_API_URL: 'http://jetmon.invalid:8090' } }
    const create = await api(['sites', 'create', '--blog-id', '1', '--monitor-url', 'https://a.example/'], remote)
    expect(create.code).toBe(2)
    expect(create.stderr).toMatch(
      /sites\.create \(POST \/sites\) writes to http:\/\/jetmon\.invalid:8090, which is not on this host: remote writes need --allow-remote/,
    )
    const raw = await api(['request', 'DELETE', '/sites/1'], remote)
    expect(raw.code).toBe(2)
    expect(raw.stderr).toMatch(/DELETE \/sites\/1 writes to .* remote writes need --allow-remote/)
    const smoke = await api(['smoke', '--allow-remote'], remote)
    expect(smoke.code).toBe(2)
    expect(smoke.stderr).toMatch(/remote writes need --batch <name> \(the batch name marks what this run creates/)
  })

  test('connection and output flags work before the subcommand, between its words and after it', async () => {
    const { url, tokenFiles } = server()
    // Only the flags say where the API is and which token to use.
    const run = (args: string[]) => jetmon2(['api', ...args], { JETMON_API_CONFIG: 'off' })
    const created = await api(['sites', 'create', '--blog-id', '7151', '--monitor-url', 'https://placed.example/'])
    expect(created.code, created.stderr).toBe(0)
    const lines = [
      // What the demo prints: the URL with /api/v1, the flags first.
      ['--url', `${url}/api/v1`, '--token-file', tokenFiles.read, 'sites', 'list', '--q', 'placed.example'],
      ['--url', url, '--token-file', tokenFiles.read, '--output', 'json', 'sites', 'list', '--q', 'placed.example'],
      [`--url=${url}`, 'sites', '--token-file', tokenFiles.read, 'list', '--q', 'placed.example'],
      ['sites', 'list', '--q', 'placed.example', '--url', url, '--token-file', tokenFiles.read],
    ]
    for (const line of lines) {
      const listed = await run(line)
      expect(listed.code, `${line.join(' ')}\n${listed.stderr}`).toBe(0)
      expect(json(listed.stdout).data.map((site) => site.blog_id)).toEqual([7151])
    }
    const pretty = await run(['--pretty', '--token-file', tokenFiles.read, '--url', url, 'me'])
    expect(pretty.code, pretty.stderr).toBe(0)
    expect(pretty.stdout).toMatch(/^ {2}"consumer": "cli-read",$/m)
    // A write before the subcommand still needs its scope, and --allow-remote is still its own flag.
    const remote = await run(['--allow-remote', '--url', 'http://jetmon.invalid', 'sites', 'delete', '7151'])
    expect(remote.code).toBe(2)
    expect(remote.stderr).toMatch(/needs an API token/)
    // No command at all: a usage error about that, not about the URL.
    const none = await run(['--url', url])
    expect(none.code).toBe(2)
    expect(none.stderr).not.toContain(url)
  })

  test('tables and error messages show what sites and servers wrote without letting it steer the terminal', async () => {
    // A URL as a v1 writer could have stored it, escape sequences and all: clear the screen, retitle
    // the window, reverse the text.
    const hostile = 'https://steer.example/\x1b[2J\x1b]0;owned\x07\u202eevil'
    await server().database.pool.query('INSERT INTO jetpack_monitor_sites (blog_id, monitor_url) VALUES (?, ?)', [
      7161,
      hostile,
    ])
    const table = await api(['sites', 'list', '--q', 'steer.example', '--output', 'table'])
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toContain('https://steer.example/\\x1b[2J\\x1b]0;owned\\x07\\u202eevil')
    expect(table.stdout).not.toMatch(CONTROLS)
    const endpoints = await api(['sites', 'get', '7161', '--output', 'table'])
    expect(endpoints.code, endpoints.stderr).toBe(0)
    expect(endpoints.stdout).toContain('\\x1b[2J')
    expect(endpoints.stdout).not.toMatch(CONTROLS)
    // JSON stays exact.
    const piped = await api(['sites', 'list', '--q', 'steer.example'])
    expect(json(piped.stdout).data[0]?.monitor_url).toBe(hostile)

    // Whatever answers in the API's place: its body excerpt in the error message is made harmless too.
    const impostor = createServer((_request, response) => {
      response.writeHead(502, { 'content-type': 'text/plain' })
      response.end('bad gateway\x1b[2J\x1b]0;owned\x07\r\x9b31m')
    })
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = impostor.address() as AddressInfo
      const failed = await api(['request', 'GET', '/me', '--output', 'table'], {
        env: { JETMON_API_URL: `http://127.0.0.1:${port}` },
      })
      expect(failed.code).toBe(1)
      expect(failed.stderr).toMatch(/body: bad gateway\\x1b\[2J\\x1b\]0;owned\\x07\\x0d\\x9b31m/)
      expect(failed.stderr).not.toMatch(CONTROLS)
    } finally {
      await new Promise((resolve) => impostor.close(resolve))
    }
  })

  test('request: a raw call below /api/v1, with or without the /api/v1 prefix', async () => {
    const me = await api(['request', 'GET', '/me'])
    expect(me.code, me.stderr).toBe(0)
    expect(json(me.stdout)).toMatchObject({ consumer: 'cli-write' })
    const prefixed = await api(['request', 'GET', '/api/v1/health', '--output', 'table'])
    expect(prefixed.stdout).toMatch(/^status +ok$/m)
    const bad = await api(['request', 'FETCH', '/me'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/METHOD: must be one of GET, POST, PATCH, PUT, DELETE/)
  })

  test('--verbose prints request and response headers on stderr, never the token', async () => {
    const token = server().tokens.read
    const ok = await api(['me', '--verbose'], { scope: null, env: { JETMON_API_TOKEN: token } })
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stderr).toMatch(new RegExp(`^> GET ${server().url}/api/v1/me$`, 'm'))
    expect(ok.stderr).toMatch(/^> authorization: Bearer jm_.{2}…\(redacted\)$/m)
    expect(ok.stderr).toMatch(/^> x-request-id: cli_[0-9a-f]{32}$/m)
    expect(ok.stderr).toMatch(/^< 200 \(\d+ ms\)$/m)
    expect(ok.stderr).toMatch(/^< x-ratelimit-limit: 100000$/m)
    const failed = await api(['sites', 'get', '999998', '--verbose'], { scope: null, env: { JETMON_API_TOKEN: token } })
    // An error answer is traced like any other: its status and every header it came with.
    expect(failed.stderr).toMatch(/^< 404 \(\d+ ms\)$/m)
    expect(failed.stderr).toMatch(/^< content-type: application\/json/m)
    expect(failed.stderr).toMatch(/^< x-ratelimit-limit: 100000$/m)
    expect(failed.stderr).toMatch(/site_not_found/)
    for (const run of [ok, failed]) {
      expect(run.stderr).not.toContain(token)
      expect(run.stdout).not.toContain(token)
    }
  })

  test('sites: create, list, get, update, delete round trip; ids are exact', async () => {
    const created = await api(['sites', 'create', '--blog-id', '7101', '--monitor-url', 'https://round.example/'])
    expect(created.code, created.stderr).toBe(0)
    expect(json(created.stdout)).toMatchObject({
      blog_id: 7101,
      monitor_url: 'https://round.example/',
      endpoint_count: 1,
    })

    const list = await api(['sites', 'list', '--q', 'round.example', '--output', 'table'])
    expect(list.code, list.stderr).toBe(0)
    expect(list.stdout.split('\n')[0]).toMatch(
      /^BLOG_ID +CURRENT_STATE +CURRENT_SEVERITY .* MONITOR_URL +LAST_CHECKED_AT$/,
    )
    expect(list.stdout).toMatch(/^7101 +Up +0 +- +1 +true +https:\/\/round\.example\/ +-$/m)

    const get = await api(['sites', 'get', '7101', '--output', 'table'])
    expect(get.stdout).toMatch(/^blog_id +7101$/m)
    expect(get.stdout).toMatch(/^ENDPOINTS \(1\)$/m)
    expect(get.stdout).toMatch(/^ACTIVE EVENTS \(0\)\n\(none\)$/m)

    const update = await api([
      'sites',
      'update',
      '7101',
      '--check-interval-sec',
      '60',
      '--forbidden-keywords',
      'fatal,error',
    ])
    expect(update.code, update.stderr).toBe(0)
    const endpoint = (json(update.stdout).endpoints as Record<string, unknown>[])[0]
    expect(endpoint).toMatchObject({ check_interval_sec: 60, forbidden_keywords: ['fatal', 'error'] })

    const deleted = await api(['sites', 'delete', '7101', '--output', 'table'])
    expect(deleted.code, deleted.stderr).toBe(0)
    expect(deleted.stdout).toBe(
      'site 7101 is no longer monitored (its open events are closed, its endpoints deactivated)\n',
    )
    expect(json((await api(['sites', 'get', '7101'])).stdout)).toMatchObject({
      monitor_active: false,
      current_state: 'Paused',
    })

    const big = await api([
      'sites',
      'create',
      '--blog-id',
      '18446744073709551615',
      '--monitor-url',
      'https://big.example/',
    ])
    expect(big.code, big.stderr).toBe(0)
    expect(big.stdout).toContain('"blog_id":"18446744073709551615"')
    const bigTable = await api(['sites', 'list', '--q', 'big.example', '--output', 'table'])
    expect(bigTable.stdout).toMatch(/^18446744073709551615 +Up/m)
  })

  test('sites and endpoints: --request-method and --detection-profile on create, update and list', async () => {
    const created = await api([
      'sites',
      'create',
      '--blog-id',
      '7501',
      '--monitor-url',
      'https://policy.example/',
      '--request-method',
      'HEAD',
      '--detection-profile',
      'legacy',
    ])
    expect(created.code, created.stderr).toBe(0)
    const site = json<{ endpoints: Record<string, unknown>[] }>(created.stdout)
    expect(site.endpoints[0]).toMatchObject({ request_method: 'HEAD', detection_profile: 'legacy' })
    const endpointId = String(site.endpoints[0]!.endpoint_id)
    const added = await api([
      'sites',
      'endpoints',
      'add',
      '7501',
      '--monitor-url',
      'https://policy.example/shop',
      '--detection-profile',
      'simple_http',
    ])
    expect(added.code, added.stderr).toBe(0)
    expect(json(added.stdout)).toMatchObject({ request_method: 'GET', detection_profile: 'simple_http' })
    expect(
      (await api(['sites', 'create', '--blog-id', '7502', '--monitor-url', 'https://policy.example/b'])).code,
    ).toBe(0)

    const legacy = await api(['sites', 'list', '--q', 'policy.example', '--detection-profile', 'legacy'])
    expect(json(legacy.stdout).data.map((item) => item.blog_id)).toEqual([7501])
    const byDefault = await api(['sites', 'list', '--q', 'policy.example', '--detection-profile', 'full'])
    expect(json(byDefault.stdout).data.map((item) => item.blog_id)).toEqual([7502])
    const endpoints = await api(['sites', 'endpoints', 'list', '7501', '--request-method', 'GET', '--output', 'table'])
    expect(endpoints.code, endpoints.stderr).toBe(0)
    expect(endpoints.stdout.split('\n')[0]).toMatch(/ CHECK_INTERVAL_SEC +REQUEST_METHOD +DETECTION_PROFILE /)
    expect(endpoints.stdout).toMatch(/https:\/\/policy\.example\/shop .* GET +simple_http /)
    expect(endpoints.stdout).not.toMatch(/HEAD +legacy/)

    const reset = await api(['sites', 'endpoints', 'update', endpointId, '--detection-profile', 'null'])
    expect(reset.code, reset.stderr).toBe(0)
    expect(json(reset.stdout)).toMatchObject({ request_method: 'HEAD', detection_profile: 'full' })
    const bad = await api(['sites', 'update', '7501', '--detection-profile', 'strict'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--detection-profile: must be legacy, simple_http or full/)
    const badFilter = await api(['sites', 'list', '--request-method', 'POST'])
    expect(badFilter.code).toBe(2)
    expect(badFilter.stderr).toMatch(/--request-method: must be GET or HEAD/)
  })

  test('events: list, get, transitions and close a site’s event', async () => {
    expect((await api(['sites', 'create', '--blog-id', '7201', '--monitor-url', 'https://down.example/'])).code).toBe(0)
    const trigger = await api(['sites', 'trigger-now', '7201'])
    expect(trigger.code, trigger.stderr).toBe(0)
    expect((json(trigger.stdout).results as unknown[]).length).toBe(1)

    const list = await api(['events', 'list', '--blog-id', '7201', '--active', 'true'])
    expect(list.code, list.stderr).toBe(0)
    const events = json(list.stdout).data
    expect(events).toEqual([
      expect.objectContaining({ blog_id: 7201, check_type: 'http', state: 'Seems Down', ended_at: null }),
    ])
    const id = String(events[0]!.id)

    const table = await api(['events', 'list', '--blog-id', '7201', '--output', 'table'])
    expect(table.stdout.split('\n')[0]).toMatch(
      /^ID +BLOG_ID +ENDPOINT_ID +CHECK_TYPE +STATE +SEVERITY_NAME +STARTED_AT/,
    )
    expect(table.stdout).toMatch(
      new RegExp(`^${id} +7201 +\\d+ +http +Seems Down +Seems Down +\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z +-`, 'm'),
    )

    const detail = await api(['events', 'get', id, '--output', 'table'])
    expect(detail.stdout).toMatch(/^TRANSITIONS \(1\)$/m)
    const transitions = await api(['events', 'transitions', id, '--all'])
    expect(json(transitions.stdout)).toMatchObject({ data: [{ reason: 'opened' }], page: { next: null } })

    const closed = await api(['events', 'close', id, '--reason', 'false_alarm', '--note', 'checked by hand'])
    expect(closed.code, closed.stderr).toBe(0)
    expect(json(closed.stdout)).toMatchObject({ resolution_reason: 'false_alarm', ended_at: expect.any(String) })
    const badReason = await api(['events', 'close', id, '--reason', 'because'])
    expect(badReason.code).toBe(2)
    expect(badReason.stderr).toMatch(/--reason: must be a closing reason/)
  })

  test('stats: uptime and response time as tables with a bar, JSON as given', async () => {
    expect((await api(['sites', 'create', '--blog-id', '7301', '--monitor-url', 'https://stats.example/'])).code).toBe(
      0,
    )
    const table = await api(['stats', 'uptime', '7301', '--window', '24h', '--output', 'table'])
    expect(table.code, table.stderr).toBe(0)
    // Only monitored time counts: the site was added moments ago, not a day ago.
    const monitored = Number(/^total_seconds +([\d.]+)$/m.exec(table.stdout)?.[1])
    expect(monitored).toBeGreaterThan(0)
    expect(monitored).toBeLessThan(300)
    expect(table.stdout).toMatch(/^uptime_percent +100$/m)
    expect(table.stdout).toMatch(/^uptime {2}█{30} {2}100%$/m)
    const piped = await api(['stats', 'uptime', '7301', '--window', '7d'])
    expect(json(piped.stdout)).toMatchObject({ uptime_percent: 100, incident_count: 0 })
    expect(json(piped.stdout).total_seconds).toBeLessThan(300)
    const rt = await api(['stats', 'response-time', '7301', '--window', '1h', '--output', 'table'])
    expect(rt.stdout).toMatch(/^samples +0$/m)
    expect(rt.stdout).toMatch(/no successful checks with a response time in this period/)
    const breakdown = await api(['stats', 'timing-breakdown', '7301', '--window', '1h', '--output', 'table'])
    expect(breakdown.stdout).toMatch(/^PHASE +SAMPLES +P50_MS +P95_MS +P99_MS +MAX_MS +P95$/m)
    const badWindow = await api(['stats', 'uptime', '7301', '--window', '2d'])
    expect(badWindow.code).toBe(2)
    expect(badWindow.stderr).toMatch(/--window: must be one of 1h, 24h, 7d, 30d, 90d/)
  })

  test('stats: the vantages that checked a site, and one veriflier’s response time with --vantage', async () => {
    const created = await api(['sites', 'create', '--blog-id', '7302', '--monitor-url', 'https://regions.example/'])
    expect(created.code, created.stderr).toBe(0)
    const endpointId = json<{ endpoints: { endpoint_id: number }[] }>(created.stdout).endpoints[0]!.endpoint_id
    const at = Date.now() - 10 * 60_000
    const checks: [string, number, number | null][] = [
      ['local', 0, 120],
      ['local', 60_000, 140],
      ['veriflier-eu', 1_000, 310],
      ['veriflier-us', 2_000, null],
    ]
    for (const [vantage, offsetMs, rttMs] of checks) {
      await server().database.pool.query(
        `INSERT INTO jetmon_check_history (endpoint_id, blog_id, checked_at, vantage, method, http_code, error_code, rtt_ms)
         VALUES (?, 7302, ?, ?, 'GET', ?, ?, ?)`,
        [endpointId, new Date(at + offsetMs), vantage, rttMs === null ? null : 200, rttMs === null ? 4 : 0, rttMs],
      )
    }
    const table = await api(['stats', 'vantages', '7302', '--window', '1h', '--output', 'table'])
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toMatch(/^VANTAGES \(3\)$/m)
    expect(table.stdout).toMatch(/^VANTAGE +CHECKS +FAILURES +LAST_CHECKED_AT +SAMPLES +P50_MS +P95_MS$/m)
    expect(table.stdout).toMatch(/^local +2 +0 +\S+ +2 +120 +140$/m)
    expect(table.stdout).toMatch(/^veriflier-eu +1 +0 +\S+ +1 +310 +310$/m)
    expect(table.stdout).toMatch(/^veriflier-us +1 +1 +\S+ +0 +- +-$/m)
    const eu = await api(['stats', 'response-time', '7302', '--window', '1h', '--vantage', 'veriflier-eu'])
    expect(eu.code, eu.stderr).toBe(0)
    expect(json(eu.stdout)).toMatchObject({ vantage: 'veriflier-eu', samples: 1, p50_ms: 310, source: 'raw' })
    const local = await api(['stats', 'timing-breakdown', '7302', '--window', '1h'])
    expect(json(local.stdout)).toMatchObject({ vantage: 'local', samples: 2 })
    const blank = await api(['stats', 'response-time', '7302', '--window', '1h', '--vantage', ' '])
    expect(blank.code).toBe(2)
    expect(blank.stderr).toMatch(/vantage/)
  })

  test('webhooks: create shows the secret once, list shows the webhook', async () => {
    const created = await api([
      'webhooks',
      'create',
      '--webhook-url',
      'http://127.0.0.1:9/cli-hook',
      '--events',
      'event.opened,event.closed',
    ])
    expect(created.code, created.stderr).toBe(0)
    const answer = json<{ webhook: { id: number }; secret: string }>(created.stdout)
    expect(answer.secret).toMatch(/^whsec_/)
    const list = await api(['webhooks', 'list', '--output', 'table'])
    expect(list.stdout.split('\n')[0]).toMatch(/^ID +URL +ACTIVE +EVENTS +SITE_FILTER\.BLOG_IDS/)
    expect(list.stdout).toMatch(
      new RegExp(`^${answer.webhook.id} +http://127\\.0\\.0\\.1:9/cli-hook +true +event\\.opened, event\\.closed`, 'm'),
    )
    expect(list.stdout).not.toContain(answer.secret)
    const table = await api([
      'webhooks',
      'rotate-secret',
      String(answer.webhook.id),
      '--grace-seconds',
      '60',
      '--output',
      'table',
    ])
    expect(table.stdout).toMatch(/^whsec_\S+ +shown this once: store it now$/m)
  })

  test('maintenance: add, list, delete', async () => {
    expect((await api(['sites', 'create', '--blog-id', '7401', '--monitor-url', 'https://maint.example/'])).code).toBe(
      0,
    )
    const added = await api([
      'maintenance',
      'add',
      '7401',
      '--starts-at',
      '2030-01-01T00:00:00Z',
      '--ends-at',
      '2030-01-01T01:00:00Z',
      '--reason',
      'upgrade',
    ])
    expect(added.code, added.stderr).toBe(0)
    const id = String(json(added.stdout).id)
    const list = await api(['maintenance', 'list', '7401', '--output', 'table'])
    expect(list.stdout).toMatch(
      new RegExp(`^${id} +7401 +- +future +2030-01-01T00:00:00\\.000Z +2030-01-01T01:00:00\\.000Z +upgrade`, 'm'),
    )
    const deleted = await api(['maintenance', 'delete', id, '--output', 'table'])
    expect(deleted.stdout).toBe(`maintenance window ${id} deleted\n`)
  })

  test('commands: the catalog lists every command of the tree with a description and an example', async () => {
    const piped = await api(['commands'])
    expect(piped.code, piped.stderr).toBe(0)
    const listed = JSON.parse(piped.stdout) as { command: string; description: string; example: string }[]
    const tree = await listCommands(apiCommand)
    expect(listed.map((c) => c.command)).toEqual(tree.map((c) => c.command))
    for (const name of [
      'health',
      'me',
      'request',
      'commands',
      'sites bulk-add',
      'sites export',
      'sites endpoints trigger-now',
      'events close',
      'stats timing-breakdown',
      'maintenance add',
      'webhooks retry',
      'alert-contacts retry',
      'smoke',
      'local-config show',
    ])
      expect(
        listed.find((c) => c.command === name),
        name,
      ).toMatchObject({ description: expect.any(String), example: expect.stringContaining(`jetmon2 api ${name}`) })
    const table = await api(['commands', '--output', 'table'])
    expect(table.stdout.split('\n')[0]).toMatch(/^COMMAND +SCOPE +WRITES +DESCRIPTION +EXAMPLE$/)
    expect(table.stdout).toMatch(/^sites create +write +yes +Monitor a URL of a blog/m)
  })

  test('smoke: every step ok against a working deployment; a failing step exits 1', async () => {
    const ok = await api(['smoke', '--output', 'table', '--batch', 'cli-test'])
    expect(ok.code, ok.stdout + ok.stderr).toBe(0)
    for (const step of ['health', 'me', 'create site', 'trigger now', 'events', 'alert contacts', 'delete site'])
      expect(ok.stdout).toMatch(new RegExp(`^ok +${step} +\\d+ ms`, 'm'))
    expect(ok.stdout).toMatch(/^ok +create site .* https:\/\/jetmon-smoke\.invalid\/\?batch=cli-test$/m)
    expect(ok.stdout).toMatch(/^ok +events .* 1 event\(s\), 1 open/m)
    expect(ok.stdout).toMatch(/^smoke passed: 7 steps/m)

    const failing = await api(['smoke', '--alert-contact', '999999', '--output', 'json'])
    expect(failing.code).toBe(1)
    const report = json<{ ok: boolean; steps: { step: string; ok: boolean; detail: string }[] }>(failing.stdout)
    expect(report.ok).toBe(false)
    expect(report.steps.find((s) => s.step === 'alert contact test')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^alert_contact_not_found \(HTTP 404\)/),
    })
    expect(report.steps.find((s) => s.step === 'delete site')).toMatchObject({ ok: true })
    expect(failing.stderr).toMatch(/smoke failed: 1 of 8 step\(s\) failed/)
  })
})
