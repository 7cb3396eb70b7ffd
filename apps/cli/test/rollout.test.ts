/**
 * `jetmon2 api rollout …` as an operator runs it (the real binary) against a real API server and
 * database. No monitor runs: where a host would act (acknowledge an activation, drain a release,
 * check the range), the test does it in the database through `actAsHost`.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, onTestFinished, test } from 'vitest'
import { rolloutCli, useRolloutServer } from './_rollout-server.js'

const server = useRolloutServer()
const api = rolloutCli(server)
// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field, as each assertion needs
type Json = Record<string, any>
const json = (stdout: string) => JSON.parse(stdout) as Json

const openEvents = async (ids: bigint[]) => {
  const rows = await server().query<{ n: number }>(
    `SELECT COUNT(*) AS n FROM jetmon_events WHERE ended_at IS NULL AND endpoint_id IN (${ids.map(() => '?').join(',')})`,
    ids.map(String),
  )
  return Number(rows[0]?.n)
}

/** Jobs recorded for buckets from `min` on (tests run side by side, each on its own buckets). */
const jobCount = async (min: number) =>
  Number(
    (
      await server().query<{ n: number }>(
        "SELECT COUNT(*) AS n FROM jetmon_rollout_jobs WHERE JSON_EXTRACT(parameters, '$.bucket_min') = ?",
        [min],
      )
    )[0]?.n,
  )

// Each test has its own buckets and host ids; they run side by side.
describe.concurrent('jetmon2 api rollout against a real API', { timeout: 300_000 }, () => {
  test('capabilities and status: tables for people, JSON for pipes', async () => {
    const caps = await api(['rollout', 'capabilities', '--output', 'table'])
    expect(caps.code, caps.stderr).toBe(0)
    expect(caps.stdout).toMatch(/^bucket_total +1000$/m)
    expect(caps.stdout).toMatch(/^token_ttl_sec +600$/m)

    const status = await api(['rollout', 'status'])
    expect(status.code, status.stderr).toBe(0)
    expect(json(status.stdout)).toMatchObject({
      bucket_total: 1000,
      ranges: expect.any(Array),
      hosts: expect.any(Array),
    })
    const table = await api(['rollout', 'status', '--output', 'table'])
    expect(table.stdout).toMatch(/^BUCKETS +OWNER +IN TRANSITION +ENDPOINTS/m)
    expect(table.stdout).toMatch(/^projection drift: \d+ endpoint\(s\)$/m)

    const notAdmin = await api(['rollout', 'status'], { scope: 'write' })
    expect(notAdmin.code).toBe(1)
    expect(notAdmin.stderr).toMatch(/insufficient_scope \(HTTP 403\)/)
  })

  test('adopt: a dry run by default; --execute without a terminal or --yes changes nothing (exit 4); --yes executes once', async () => {
    const s = server()
    const failing = await s.insertSites({ min: 100, max: 104 }, 3, { siteStatus: 0 })
    const down = await s.insertSites({ min: 100, max: 104 }, 2, { siteStatus: 2 })
    const range = ['--bucket-min', '100', '--bucket-max', '104']

    const dry = await api(['rollout', 'adopt', ...range, '--output', 'table'])
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toMatch(/^adopt v1 state of buckets 100-104: plan \(dry run, nothing changed\)$/m)
    expect(dry.stdout).toMatch(/^adopt\.seems_down +3$/m)
    expect(dry.stdout).toMatch(/^adopt\.down +2$/m)
    expect(dry.stdout).toMatch(/dry run only: nothing changed\. To execute: the same command with --execute/)
    expect(dry.stdout).not.toMatch(/rt_/)
    expect(await openEvents([...failing, ...down])).toBe(0)

    const unconfirmed = await api(['rollout', 'adopt', ...range, '--execute', '--output', 'table'])
    expect(unconfirmed.code).toBe(4)
    expect(unconfirmed.stderr).toMatch(
      /needs a typed confirmation \(ADOPT 100-104\), and standard input is not a terminal: nothing was changed/,
    )
    expect(await openEvents([...failing, ...down])).toBe(0)

    const executed = await api(['rollout', 'adopt', ...range, '--execute', '--yes'])
    expect(executed.code, executed.stderr).toBe(0)
    const answer = json(executed.stdout)
    expect(answer.dry_run).toMatchObject({ dry_run: true, blocked: [] })
    expect(answer.execution).toMatchObject({ dry_run: false, result: { adopted: { seems_down: 3, down: 2 } } })
    expect(await openEvents([...failing, ...down])).toBe(5)
    const keys = await s.query<{ idem_key: string }>(
      "SELECT idem_key FROM jetmon_idempotency_keys WHERE idem_key LIKE 'jetmon2-rollout-adopt-%'",
    )
    expect(keys).toHaveLength(1)

    const again = await api(['rollout', 'adopt', ...range, '--execute', '--yes'])
    expect(json(again.stdout).execution).toMatchObject({ result: { adopted: { seems_down: 0, down: 0 } } })
    expect(await openEvents([...failing, ...down])).toBe(5)
  })

  test('activate: blocked for a host that is not api-controlled (exit 3), remote needs --allow-remote, then executed', async () => {
    const s = server()
    await s.insertSites({ min: 200, max: 209 }, 2)
    await s.upsertHost('cli-host-a', 'standby')
    const args = ['rollout', 'activate', '--bucket-min', '200', '--bucket-max', '209', '--host', 'cli-host-a']

    const blocked = await api([...args, '--output', 'table'])
    expect(blocked.code).toBe(3)
    expect(blocked.stdout).toMatch(/^BLOCKED \(\d\): this step cannot run until each is fixed$/m)
    expect(blocked.stderr).toMatch(/the plan is blocked \(.+\): fix each blocker, then run it again/)
    const blockedJson = await api([...args, '--execute', '--yes'])
    expect(blockedJson.code).toBe(3)
    expect(json(blockedJson.stdout)).toMatchObject({ error: { code: 'plan_blocked', exit_code: 3 } })

    const remote = await api([...args, '--execute', '--yes'], { env: { JETMON_API_URL: 'http://jetmon.invalid:8090' } })
    expect(remote.code).toBe(2)
    expect(remote.stderr).toMatch(
      /rollout activate writes to http:\/\/jetmon\.invalid:8090, which is not on this host: remote writes need --allow-remote/,
    )

    await s.upsertHost('cli-host-a', 'api-controlled')
    const executed = await api([...args, '--execute', '--yes', '--output', 'table'])
    expect(executed.code, executed.stderr).toBe(0)
    expect(executed.stdout).toMatch(/^activate buckets 200-209 on cli-host-a: executed \(job \d+\)$/m)
    const locks = await s.query(
      'SELECT host_id, state FROM jetmon_rollout_locks WHERE bucket_min = 200 AND bucket_max = 209',
    )
    expect(locks).toEqual([{ host_id: 'cli-host-a', state: 'active' }])

    const status = json((await api(['rollout', 'status'])).stdout)
    expect(status.ranges).toContainEqual(
      expect.objectContaining({
        bucket_min: 200,
        bucket_max: 209,
        owner: expect.objectContaining({ kind: 'lock', host_id: 'cli-host-a' }),
      }),
    )
  })

  test('preflight, smoke, compare and compare-results: tables and JSON; a failed preflight exits 3', async () => {
    const s = server()
    await s.insertSites({ min: 300, max: 309 }, 2)
    await s.insertSites({ min: 300, max: 309 }, 1, { path: 'status-500' })
    await s.upsertHost('cli-host-p', 'api-controlled')
    const range = ['--bucket-min', '300', '--bucket-max', '309']

    const preflight = await api(['rollout', 'preflight', ...range, '--host', 'cli-host-p', '--output', 'table'])
    expect(preflight.code, preflight.stdout + preflight.stderr).toBe(0)
    expect(preflight.stdout).toMatch(/^preflight: PASSED \(job \d+\)$/m)
    expect(preflight.stdout).toMatch(/^host_api_controlled +ok +blocking/m)
    const unknown = await api(['rollout', 'preflight', ...range, '--host', 'nobody', '--output', 'table'])
    expect(unknown.code).toBe(3)
    expect(unknown.stdout).toMatch(/^host_registered +FAILED +blocking/m)

    const smoke = await api(['rollout', 'smoke', ...range])
    expect(smoke.code, smoke.stderr).toBe(0)
    expect(json(smoke.stdout)).toMatchObject({
      method: 'HEAD',
      profile: 'legacy',
      summary: { active_endpoints: 3, checked: 3, up: 2, down: 1 },
    })
    const badPolicy = await api(['rollout', 'smoke', ...range, '--policy', 'POST/full'])
    expect(badPolicy.code).toBe(2)
    expect(badPolicy.stderr).toMatch(/--policy: must be METHOD\/profile/)

    const compare = await api(['rollout', 'compare', ...range, '--output', 'table'])
    expect(compare.code, compare.stderr).toBe(0)
    expect(compare.stdout).toMatch(
      /^compare HEAD\/legacy with GET\/simple_http \(job (\d+)\): 3 endpoint\(s\), \d agree, \d disagree$/m,
    )
    const job = /\(job (\d+)\)/.exec(compare.stdout)![1]!
    const rows = await api(['rollout', 'compare-results', job])
    expect(rows.code, rows.stderr).toBe(0)
    expect(json(rows.stdout).data).toHaveLength(3)
  })

  test('the range there and back with the primitives: activate, reconcile, stages and their rollbacks, release', async () => {
    const s = server()
    await s.insertSites({ min: 400, max: 409 }, 4)
    await s.upsertHost('cli-host-r', 'api-controlled')
    const range = ['--bucket-min', '400', '--bucket-max', '409']
    const run = async (args: string[]) => {
      const result = await api(args)
      expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0)
      return json(result.stdout)
    }

    await run(['rollout', 'activate', ...range, '--host', 'cli-host-r', '--execute', '--yes'])
    const notYet = await api(['rollout', 'reconcile', ...range, '--output', 'table'])
    expect(notYet.code).toBe(3)
    expect(notYet.stdout).toMatch(/NOT PASSED — 4 active endpoint\(s\), 4 not checked since then/)
    await s.actAsHost('cli-host-r', { check: true })
    expect(await run(['rollout', 'reconcile', ...range])).toMatchObject({ passed: true, unchecked: 0 })

    const stage = ['rollout', 'stage', ...range, '--from', 'HEAD/legacy', '--to', 'GET/simple_http', '--size', '2']
    // Endpoints without a policy of their own are on the fleet default, not HEAD/legacy: move them there first.
    await s.query(
      "INSERT INTO jetmon_endpoint_config (endpoint_id, request_method, detection_profile) SELECT jetpack_monitor_site_id, 'HEAD', 'legacy' FROM jetpack_monitor_sites WHERE bucket_no BETWEEN 400 AND 409 ON DUPLICATE KEY UPDATE request_method = 'HEAD', detection_profile = 'legacy'",
    )
    expect((await run(stage)).plan).toMatchObject({ selected: 2 })
    const first = await run([...stage, '--execute', '--yes'])
    expect(first.execution.result).toMatchObject({ moved: 2 })
    await run([...stage, '--execute', '--yes'])
    const stages = await run(['rollout', 'stages', ...range])
    expect(stages.data.map((st: Json) => st.state)).toEqual(['applied', 'applied'])

    const one = await run(['rollout', 'stage-rollback', String(stages.data[0].id), '--execute', '--yes'])
    expect(one.execution.dry_run).toBe(false)
    const table = await api(['rollout', 'stages', ...range, '--output', 'table'])
    expect(table.stdout).toMatch(/^ID +BUCKETS +FROM +TO +SIZE/m)
    expect(table.stdout).toMatch(/ 400-409 +HEAD\/legacy +GET\/simple_http +2 +2 +2 +rolled_back /)
    await run(['rollout', 'rollback-all', ...range, '--execute', '--yes'])
    const policies = await s.query<{ request_method: string }>(
      'SELECT DISTINCT c.request_method FROM jetmon_endpoint_config c JOIN jetpack_monitor_sites s ON s.jetpack_monitor_site_id = c.endpoint_id WHERE s.bucket_no BETWEEN 400 AND 409',
    )
    expect(policies).toEqual([{ request_method: 'HEAD' }])

    const released = await run(['rollout', 'release', ...range, '--execute', '--yes'])
    expect(released.execution.result).toMatchObject({ acknowledged: true })
    const status = await run(['rollout', 'status'])
    const covering = status.ranges.find((r: Json) => r.bucket_min <= 400 && r.bucket_max >= 409)
    expect(covering.owner).toEqual({ kind: 'v1' })
  })

  test('sessions: create, list, show with the jobs recorded in it, pause and resume', async () => {
    const s = server()
    await s.insertSites({ min: 500, max: 509 }, 1, { siteStatus: 0 })
    const created = await api([
      'rollout',
      'session',
      'create',
      '--name',
      'cli-range-500',
      '--bucket-min',
      '500',
      '--bucket-max',
      '509',
    ])
    expect(created.code, created.stderr).toBe(0)
    const id = String(json(created.stdout).id)
    const dry = await api(['rollout', 'adopt', '--bucket-min', '500', '--bucket-max', '509', '--session-id', id])
    expect(dry.code, dry.stderr).toBe(0)
    const shown = await api(['rollout', 'session', 'show', id, '--output', 'table'])
    expect(shown.stdout).toMatch(/^name +cli-range-500$/m)
    expect(shown.stdout).toMatch(/^JOBS \(1, newest first\)$/m)
    expect(shown.stdout).toMatch(/^\d+ +adopt +yes +planned /m)
    const list = await api(['rollout', 'session', 'list'])
    expect(json(list.stdout).data.map((x: Json) => x.name)).toContain('cli-range-500')
    expect(json((await api(['rollout', 'session', 'pause', id])).stdout)).toMatchObject({ state: 'paused' })
    expect(json((await api(['rollout', 'session', 'resume', id])).stdout)).toMatchObject({ state: 'active' })
  })

  test('guided through the binary with scripted answers (--answers-from-stdin): forward to the host, transcript 0600', async () => {
    const s = server()
    await s.insertSites({ min: 800, max: 809 }, 2)
    await s.upsertHost('cli-host-s', 'api-controlled')
    const logDir = mkdtempSync(join(tmpdir(), 'jetmon-cli-guided-'))
    // The api-controlled host, standing in: heartbeats, acknowledges and checks while the run goes on.
    const host = setInterval(() => void s.actAsHost('cli-host-s', { check: true }), 500)
    onTestFinished(() => {
      clearInterval(host)
      rmSync(logDir, { recursive: true, force: true })
    })
    const run = await api(
      [
        'rollout',
        'guided',
        '--bucket-min',
        '800',
        '--bucket-max',
        '809',
        '--host',
        'cli-host-s',
        '--session',
        'cli-guided-800',
        '--log-dir',
        logDir,
        '--poll',
        '1',
        '--answers-from-stdin',
      ],
      { input: 'ADOPT 800-809\nV1 STOPPED 800-809\nACTIVATE 800-809 cli-host-s\n' },
    )
    expect(run.code, run.stderr).toBe(0)
    const result = json(run.stdout)
    expect(result).toMatchObject({ outcome: 'completed', exit_code: 0, step: null })
    expect(run.stderr).toMatch(/reconcile since .*: PASSED/)
    expect(statSync(result.transcript).mode & 0o777).toBe(0o600)
    expect(readFileSync(result.transcript, 'utf8')).toMatch(/Done: buckets 800-809 are checked by cli-host-s\./)
    expect(await s.query('SELECT host_id, state FROM jetmon_rollout_locks WHERE bucket_min = 800')).toEqual([
      { host_id: 'cli-host-s', state: 'active' },
    ])
  })

  test('guided: --dry-run prints every step and executes nothing; without a terminal it refuses (exit 4)', async () => {
    const before = await jobCount(600)
    const plan = await api(
      [
        'rollout',
        'guided',
        '--bucket-min',
        '600',
        '--bucket-max',
        '609',
        '--host',
        'cli-host-g',
        '--dry-run',
        '--include-comparison',
        '--output',
        'table',
      ],
      { env: { HOME: '/nonexistent' } },
    )
    expect(plan.code, plan.stderr).toBe(0)
    expect(plan.stdout).toMatch(
      /^Guided rollout of buckets 600-609 to cli-host-g \(session rollout-600-609\): the steps it would take$/m,
    )
    for (const step of [
      'Preflight',
      'Smoke check',
      'Compare HEAD/legacy',
      'Adopt v1 state',
      'Checkpoint: stop v1',
      'Activate',
      'Wait for the first checks',
      'Reconcile',
    ])
      expect(plan.stdout).toContain(step)
    expect(plan.stdout).toMatch(/confirmation: ACTIVATE 600-609 cli-host-g/)
    expect(plan.stdout).toMatch(/^Dry run: nothing was executed\.$/m)
    expect(await jobCount(600)).toBe(before)

    const back = await api([
      'rollout',
      'guided',
      '--bucket-min',
      '600',
      '--bucket-max',
      '609',
      '--host',
      'cli-host-g',
      '--rollback',
      '--dry-run',
      '--output',
      'table',
    ])
    expect(back.stdout).toMatch(/Release the range \(the rollback to v1\)[\s\S]*Checkpoint: start v1 for this range/)

    const piped = await api(['rollout', 'guided', '--bucket-min', '600', '--bucket-max', '609', '--host', 'cli-host-g'])
    expect(piped.code).toBe(4)
    expect(piped.stderr).toMatch(/asks for typed confirmations, and standard input is not a terminal: nothing was done/)
  })
})
