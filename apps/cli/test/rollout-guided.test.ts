/**
 * The guided rollout state machine driven with scripted answers against a real API server and
 * database (through the CLI's own session and REST port). No monitor runs: the answers and the
 * waits stand in for the operator and the api-controlled host — when the run waits for the host,
 * the test's `sleep` does what the host would (acknowledge, check, drain) in the database.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JetmonTransportError } from '@jetmon/api-client'
import { afterAll, describe, expect, test } from 'vitest'
import { restRolloutPort } from '../src/rollout/api.js'
import { type GuidedOptions, type RolloutPort, runGuided } from '../src/rollout/guided.js'
import { fileStore } from '../src/rollout/journal.js'
import type { Prompter } from '../src/rollout/prompter.js'
import { ROLLOUT_EXIT } from '../src/rollout/two-phase.js'
import { type RolloutServer, useRolloutServer } from './_rollout-server.js'

const server = useRolloutServer()
const logDir = mkdtempSync(join(tmpdir(), 'jetmon-guided-'))
afterAll(() => rmSync(logDir, { recursive: true, force: true }))

type Answer = string | (() => string | Promise<string>)

/** Answers in order; each question is kept. A function answer runs when its question comes. */
function script(answers: Answer[]): Prompter & { questions: string[] } {
  const queue = [...answers]
  const questions: string[] = []
  return {
    interactive: true,
    questions,
    async ask(question) {
      questions.push(question)
      const next = queue.shift()
      if (next === undefined) return null
      return typeof next === 'function' ? next() : next
    },
    close() {},
  }
}

function options(range: { min: number; max: number }, host: string, extra: Partial<GuidedOptions> = {}): GuidedOptions {
  return {
    range,
    host,
    session: `guided-${range.min}-${range.max}`,
    rollback: false,
    includeComparison: false,
    includePolicyMigration: false,
    dryRun: false,
    stageSize: 2,
    firstChecksTimeoutMs: 60_000,
    releaseTimeoutMs: 60_000,
    pollMs: 1,
    ...extra,
  }
}

/** One guided run: the real REST port (or a wrapper of it), scripted answers, the host as `sleep`. */
async function guided(
  s: RolloutServer,
  o: GuidedOptions,
  answers: Answer[],
  wrap: (port: RolloutPort) => RolloutPort = (port) => port,
  clock?: () => Date,
) {
  const prompter = script(answers)
  const lines: string[] = []
  const store = fileStore(logDir, o.session)
  const result = await runGuided(o, {
    api: wrap(restRolloutPort(s.session())),
    prompter,
    store,
    out: (text) => lines.push(text),
    ...(clock ? { clock } : {}),
    // While the run waits, the api-controlled host does its work: one poll per wait.
    sleep: () => s.actAsHost(o.host, { check: true }),
  })
  return { result, questions: prompter.questions, output: lines.join('\n'), store }
}

const count = async (s: RolloutServer, sql: string, values: unknown[] = []) =>
  Number((await s.query<{ n: number }>(sql, values))[0]?.n)

const onHeadLegacy = (s: RolloutServer, range: { min: number; max: number }) =>
  s.query(
    "INSERT INTO jetmon_endpoint_config (endpoint_id, request_method, detection_profile) SELECT jetpack_monitor_site_id, 'HEAD', 'legacy' FROM jetpack_monitor_sites WHERE bucket_no BETWEEN ? AND ? ON DUPLICATE KEY UPDATE request_method = 'HEAD', detection_profile = 'legacy'",
    [range.min, range.max],
  )

describe.concurrent('jetmon2 api rollout guided', { timeout: 300_000 }, () => {
  test('forward with comparison and policy stages, then back to v1, then forward again', async () => {
    const s = server()
    const range = { min: 700, max: 709 }
    const host = 'guided-host-f'
    const ids = [...(await s.insertSites(range, 3)), ...(await s.insertSites(range, 1, { siteStatus: 2 }))]
    await onHeadLegacy(s, range)
    await s.upsertHost(host, 'api-controlled')
    const forward = options(range, host, { includeComparison: true, includePolicyMigration: true })

    const run = await guided(s, forward, [
      'ADOPT 700-709',
      'V1 STOPPED 700-709',
      'ACTIVATE 700-709 guided-host-f',
      'STAGE 700-709 GET/simple_http 2',
      'NEXT STAGE',
      'STAGE 700-709 GET/simple_http 2',
      'NEXT STAGE',
    ])
    expect(run.result, run.output).toEqual({ exitCode: 0, outcome: 'completed', step: null })
    expect(run.questions).toEqual([
      'Type ADOPT 700-709 to execute it (anything else stops here; run again to resume): ',
      'Type V1 STOPPED 700-709 when this is done (anything else stops here; run again to resume): ',
      'Type ACTIVATE 700-709 guided-host-f to execute it (anything else stops here; run again to resume): ',
      'Type STAGE 700-709 GET/simple_http 2 to execute it (anything else stops here; run again to resume): ',
      'Type NEXT STAGE for another stage, or DONE: ',
      'Type STAGE 700-709 GET/simple_http 2 to execute it (anything else stops here; run again to resume): ',
      'Type NEXT STAGE for another stage, or DONE: ',
    ])
    expect(run.output).toMatch(/preflight: PASSED/)
    expect(run.output).toMatch(/smoke \(HEAD\/legacy, writes nothing\): 4 of 4 active endpoint\(s\) checked/)
    expect(run.output).toMatch(/compare HEAD\/legacy with GET\/simple_http: 4 endpoint\(s\)/)
    expect(run.output).toMatch(/reconcile since .*: PASSED/)
    expect(run.output).toMatch(/policy stage 3 of buckets 700-709: 2 endpoint\(s\) to GET\/simple_http: nothing to do/)
    // The v1 Down site was adopted as Down; the lock is the host's, acknowledged; every endpoint moved.
    expect(
      await count(
        s,
        "SELECT COUNT(*) AS n FROM jetmon_events WHERE ended_at IS NULL AND state = 'Down' AND endpoint_id = ?",
        [String(ids[3])],
      ),
    ).toBe(1)
    expect(await s.query('SELECT host_id, state FROM jetmon_rollout_locks WHERE bucket_min = 700')).toEqual([
      { host_id: host, state: 'active' },
    ])
    expect(
      await count(
        s,
        "SELECT COUNT(*) AS n FROM jetmon_endpoint_config c JOIN jetpack_monitor_sites m ON m.jetpack_monitor_site_id = c.endpoint_id WHERE m.bucket_no BETWEEN 700 AND 709 AND c.request_method = 'GET' AND c.detection_profile = 'simple_http'",
      ),
    ).toBe(4)
    // Every execution carried the run's key for its session and step.
    const [session] = await s.query<{ id: number }>(
      "SELECT id FROM jetmon_rollout_sessions WHERE name = 'guided-700-709'",
    )
    const keys = (
      await s.query<{ idem_key: string }>('SELECT idem_key FROM jetmon_idempotency_keys WHERE idem_key LIKE ?', [
        `jetmon2-guided-%-s${session!.id}-%`,
      ])
    ).map((row) => row.idem_key.replace(/^jetmon2-guided-[0-9a-f]{8}-s\d+-/, ''))
    expect(keys.sort()).toEqual(['activate-0', 'adopt-0', 'stage-1-0', 'stage-2-0'])
    // The transcript is the owner's only; a finished run leaves no resume file.
    expect(statSync(run.store.transcriptPath).mode & 0o777).toBe(0o600)
    expect(readFileSync(run.store.transcriptPath, 'utf8')).toMatch(
      /\? Type ACTIVATE 700-709 guided-host-f .* → ACTIVATE 700-709 guided-host-f/,
    )
    expect(run.store.load()).toBeNull()

    const back = await guided(s, { ...forward, rollback: true }, [
      'ROLLBACK STAGES 700-709',
      'RELEASE 700-709',
      'V1 STARTED 700-709',
    ])
    expect(back.result, back.output).toEqual({ exitCode: 0, outcome: 'completed', step: null })
    expect(back.output).toMatch(/Jetmon 2 checks in the range since .*: 0 of 4 endpoint\(s\)/)
    expect(await s.query('SELECT state FROM jetmon_rollout_locks WHERE bucket_min = 700')).toEqual([
      { state: 'released' },
    ])
    expect(
      await count(
        s,
        "SELECT COUNT(*) AS n FROM jetmon_endpoint_config c JOIN jetpack_monitor_sites m ON m.jetpack_monitor_site_id = c.endpoint_id WHERE m.bucket_no BETWEEN 700 AND 709 AND c.request_method = 'HEAD' AND c.detection_profile = 'legacy'",
      ),
    ).toBe(4)

    const again = await guided(s, { ...forward, includeComparison: false, includePolicyMigration: false }, [
      'ADOPT 700-709',
      'V1 STOPPED 700-709',
      'ACTIVATE 700-709 guided-host-f',
    ])
    expect(again.result.exitCode, again.output).toBe(0)
    expect(await s.query('SELECT state FROM jetmon_rollout_locks WHERE bucket_min = 700 ORDER BY id')).toEqual([
      { state: 'released' },
      { state: 'active' },
    ])
    // Adoption found the Down incident already open: nothing adopted twice.
    expect(again.output).toMatch(/adopted\.down +0/)
  })

  test('stopped at the checkpoint, run again: RESUME continues there; a failed preflight offers RETRY', async () => {
    const s = server()
    const range = { min: 710, max: 719 }
    const host = 'guided-host-r'
    await s.insertSites(range, 2)
    await s.upsertHost(host, 'standby')
    const o = options(range, host)

    const first = await guided(s, o, [
      async () => {
        // The preflight failed (the host is standby); the operator fixes the host, then retries.
        await s.upsertHost(host, 'api-controlled')
        return 'retry'
      },
      'ADOPT 710-719',
      'not yet',
    ])
    expect(first.questions[0]).toBe('Type RETRY, STOP: ')
    expect(first.output).toMatch(/preflight: NOT PASSED/)
    expect(first.output).toMatch(/preflight did not pass\. RETRY checks again; STOP leaves everything as it is now/)
    expect(first.result).toEqual({ exitCode: ROLLOUT_EXIT.notConfirmed, outcome: 'not_confirmed', step: 'v1-stopped' })
    expect(statSync(first.store.resumePath).mode & 0o777).toBe(0o600)
    expect(first.store.load()).toMatchObject({ step: 'v1-stopped', direction: 'forward', pending: null })

    const resumed = await guided(s, o, ['RESUME', 'V1 STOPPED 710-719', 'ACTIVATE 710-719 guided-host-r'])
    expect(resumed.result, resumed.output).toMatchObject({ exitCode: 0, outcome: 'completed' })
    expect(resumed.questions).toEqual([
      'Type RESUME to continue from there, or START OVER to begin again at the first step: ',
      'Type V1 STOPPED 710-719 when this is done (anything else stops here; run again to resume): ',
      'Type ACTIVATE 710-719 guided-host-r to execute it (anything else stops here; run again to resume): ',
    ])
    expect(
      await count(
        s,
        "SELECT COUNT(*) AS n FROM jetmon_rollout_jobs WHERE step = 'adopt' AND dry_run = 0 AND JSON_EXTRACT(parameters, '$.bucket_min') = 710",
      ),
    ).toBe(1)
  })

  test('an execution whose answer was lost is sent again on resume with the same key, and applied once', async () => {
    const s = server()
    const range = { min: 720, max: 729 }
    const host = 'guided-host-l'
    await s.insertSites(range, 2)
    await s.upsertHost(host, 'api-controlled')
    const o = options(range, host)
    // The network drops every answer of the activation's execution: it reaches the API, its answer never arrives.
    const lossy = (port: RolloutPort): RolloutPort => ({
      ...port,
      async step(kind, body, phase, key) {
        const answer = await port.step(kind, body, phase, key)
        if (kind === 'activate' && !phase.dry_run)
          throw new JetmonTransportError('TRANSPORT_FAILED', 'connection reset')
        return answer
      },
    })
    const lost = await guided(
      s,
      o,
      ['ADOPT 720-729', 'V1 STOPPED 720-729', 'ACTIVATE 720-729 guided-host-l'],
      lossy,
    ).then(
      () => expect.unreachable('the run cannot go on without the answer'),
      (error: unknown) => error,
    )
    expect(lost).toBeInstanceOf(JetmonTransportError)
    const saved = fileStore(logDir, o.session).load() as { step: string; pending: { idempotencyKey: string } }
    expect(saved).toMatchObject({
      step: 'activate',
      pending: { idempotencyKey: expect.stringMatching(/-activate-0$/) },
    })

    const resumed = await guided(s, o, ['RESUME'])
    expect(resumed.result, resumed.output).toMatchObject({ exitCode: 0, outcome: 'completed' })
    expect(resumed.output).toMatch(
      /an execution was sent earlier and its answer never arrived; sending the very same request again/,
    )
    expect(resumed.questions).toEqual([
      'Type RESUME to continue from there, or START OVER to begin again at the first step: ',
    ])
    expect(await count(s, 'SELECT COUNT(*) AS n FROM jetmon_rollout_locks WHERE bucket_min = 720')).toBe(1)
    expect(
      await count(
        s,
        "SELECT COUNT(*) AS n FROM jetmon_rollout_jobs WHERE step = 'activate' AND dry_run = 0 AND outcome = 'applied' AND JSON_EXTRACT(parameters, '$.bucket_min') = 720",
      ),
    ).toBe(1)
  })

  test("the first checks are counted from the API's time of the activation, whatever this machine's clock says", async () => {
    const s = server()
    const range = { min: 740, max: 749 }
    const host = 'guided-host-c'
    await s.insertSites(range, 2)
    await s.upsertHost(host, 'api-controlled')
    // The operator's clock is ten minutes ahead of the API's and the monitor's.
    const ahead = () => new Date(Date.now() + 600_000)
    const run = await guided(
      s,
      options(range, host, { firstChecksTimeoutMs: 3_000 }),
      ['ADOPT 740-749', 'V1 STOPPED 740-749', 'ACTIVATE 740-749 guided-host-c'],
      undefined,
      ahead,
    )
    expect(run.result, run.output).toMatchObject({ exitCode: 0, outcome: 'completed' })
  })

  test('fails closed without a token, and stops on plan_changed (exit 5) with nothing applied', async () => {
    const s = server()
    const range = { min: 730, max: 739 }
    const host = 'guided-host-t'
    const ids = await s.insertSites(range, 2, { siteStatus: 0 })
    await s.upsertHost(host, 'api-controlled')
    const tokenless = (port: RolloutPort): RolloutPort => ({
      ...port,
      async step(kind, body, phase, key) {
        const answer = (await port.step(kind, body, phase, key)) as Record<string, unknown>
        return phase.dry_run ? { ...answer, confirmation_token: null } : answer
      },
    })
    const closed = await guided(s, options(range, host, { session: 'guided-tokenless' }), [], tokenless)
    expect(closed.result).toEqual({ exitCode: ROLLOUT_EXIT.failure, outcome: 'token_missing', step: 'adopt' })
    expect(closed.questions).toEqual([])
    expect(closed.output).toMatch(/the dry run answered no confirmation token, so nothing is executed/)

    const changed = await guided(s, options(range, host, { session: 'guided-changed' }), [
      async () => {
        // Between the dry run and the execution, v1 reports one more failing site in the range.
        await s.insertSites(range, 1, { siteStatus: 0 })
        return 'ADOPT 730-739'
      },
      'STOP',
    ])
    expect(changed.result).toEqual({
      exitCode: ROLLOUT_EXIT.confirmationRefused,
      outcome: 'plan_changed',
      step: 'adopt',
    })
    expect(changed.output).toMatch(/refused by the API, plan_changed: .*\n {2}the range changed since the dry run/)
    expect(await count(s, `SELECT COUNT(*) AS n FROM jetmon_events WHERE endpoint_id IN (${ids.join(',')})`)).toBe(0)
  })
})
