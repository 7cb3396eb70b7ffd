import { statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { JetmonApiError, JetmonTransportError } from '@jetmon/api-client'
import { describe, expect, test } from 'vitest'
import { fileStore } from './journal.js'
import { linePrompter, scriptedPrompter } from './prompter.js'
import { ROLLOUT_EXIT, RolloutHalt, readDryRun, runTwoPhase, type TwoPhaseStep } from './two-phase.js'

const plan = { range: '0-9', endpoints: 3 }
const dryRunAnswer = (extra: Record<string, unknown> = {}) => ({
  plan,
  blocked: [],
  warnings: [],
  confirmation_token: 'rt_token',
  expires_at: '2026-01-01T00:10:00.000Z',
  ...extra,
})

/** A step whose answers come from `answer`, recording every request it was asked to send. */
function step(answer: (body: Record<string, unknown>, key?: string) => unknown) {
  const sent: { body: Record<string, unknown>; key: string | undefined }[] = []
  const s: TwoPhaseStep & { sent: typeof sent } = {
    name: 'activate',
    title: 'activate buckets 0-9 on host-b',
    phrase: 'ACTIVATE 0-9 host-b',
    sent,
    async send(body, key) {
      sent.push({ body, key })
      return answer(body, key)
    },
  }
  return s
}

const halted = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(RolloutHalt)
  return error as RolloutHalt
}

const refusal = (code: string, status = 409) =>
  new JetmonApiError({ status, code, message: `refused: ${code}`, requestId: 'req_1' })

describe('runTwoPhase', () => {
  test('without execute: one dry run, shown, nothing else sent', async () => {
    const s = step(() => dryRunAnswer())
    const shown: string[] = []
    const result = await runTwoPhase(s, {
      execute: false,
      yes: false,
      prompter: scriptedPrompter([]),
      show: (t) => shown.push(t),
    })
    expect(s.sent).toEqual([{ body: { dry_run: true }, key: undefined }])
    expect(result.executed).toBeUndefined()
    expect(shown.join('\n')).toMatch(/activate buckets 0-9 on host-b: plan \(dry run, nothing changed\)/)
    expect(shown.join('\n')).not.toContain('rt_token')
  })

  test('execute: the typed phrase sends the token and an Idempotency-Key', async () => {
    const s = step((body) => (body.dry_run ? dryRunAnswer() : { result: { activated: true } }))
    const prompter = scriptedPrompter(['  ACTIVATE 0-9 host-b '])
    const result = await runTwoPhase(s, { execute: true, yes: false, prompter, show: () => {} })
    expect(prompter.questions).toEqual(['Type ACTIVATE 0-9 host-b to execute it (anything else stops here): '])
    expect(s.sent[1]).toEqual({
      body: { dry_run: false, confirmation_token: 'rt_token' },
      key: expect.stringMatching(/^jetmon2-rollout-activate-[0-9a-f-]{36}$/),
    })
    expect(result.executed).toEqual({ result: { activated: true } })
  })

  test('another answer, or no terminal without --yes, executes nothing (exit 4); --yes asks nothing', async () => {
    const wrong = step(() => dryRunAnswer())
    const typo = await halted(
      runTwoPhase(wrong, { execute: true, yes: false, prompter: scriptedPrompter(['ACTIVATE 0-9']), show: () => {} }),
    )
    expect(typo.exitCode).toBe(ROLLOUT_EXIT.notConfirmed)
    expect(typo.message).toMatch(/not confirmed .*nothing was changed/)
    expect(wrong.sent).toHaveLength(1)

    const piped = step(() => dryRunAnswer())
    const noTerminal = await halted(
      runTwoPhase(piped, {
        execute: true,
        yes: false,
        prompter: linePrompter({ input: new PassThrough(), output: new PassThrough(), interactive: false }),
        show: () => {},
      }),
    )
    expect(noTerminal.code).toBe('no_terminal')
    expect(noTerminal.exitCode).toBe(ROLLOUT_EXIT.notConfirmed)
    expect(noTerminal.message).toMatch(/standard input is not a terminal: nothing was changed.*--yes/)
    expect(piped.sent).toHaveLength(1)

    const scripted = step((body) => (body.dry_run ? dryRunAnswer() : { ok: true }))
    const prompter = scriptedPrompter([])
    await runTwoPhase(scripted, { execute: true, yes: true, prompter, show: () => {} })
    expect(prompter.questions).toEqual([])
    expect(scripted.sent).toHaveLength(2)
  })

  test('a blocked plan is not executed (exit 3), and neither is a dry run without a token (fail closed)', async () => {
    const blocked = step(() =>
      dryRunAnswer({ blocked: [{ code: 'host_not_fresh', message: 'no heartbeat for 5 min' }] }),
    )
    const shown: string[] = []
    const halt = await halted(
      runTwoPhase(blocked, { execute: true, yes: true, prompter: scriptedPrompter([]), show: (t) => shown.push(t) }),
    )
    expect(halt.exitCode).toBe(ROLLOUT_EXIT.blocked)
    expect(shown.join('\n')).toMatch(/BLOCKED \(1\)[\s\S]*host_not_fresh +no heartbeat for 5 min/)
    expect(blocked.sent).toHaveLength(1)

    const tokenless = step(() => dryRunAnswer({ confirmation_token: null }))
    const missing = await halted(
      runTwoPhase(tokenless, { execute: true, yes: true, prompter: scriptedPrompter([]), show: () => {} }),
    )
    expect(missing.code).toBe('token_missing')
    expect(missing.exitCode).toBe(ROLLOUT_EXIT.failure)
    expect(tokenless.sent).toHaveLength(1)
  })

  test.each([
    ['confirmation_expired', 409, ROLLOUT_EXIT.confirmationRefused, /confirm within the token lifetime/],
    [
      'confirmation_mismatch',
      409,
      ROLLOUT_EXIT.confirmationRefused,
      /another step, other parameters or another API key/,
    ],
    ['confirmation_required', 409, ROLLOUT_EXIT.confirmationRefused, /carried no confirmation token/],
    ['plan_changed', 409, ROLLOUT_EXIT.confirmationRefused, /read the new plan/],
    ['plan_blocked', 422, ROLLOUT_EXIT.blocked, /has blockers/],
  ])('the refusal %s exits %i with its code and a hint', async (code, status, exit, hint) => {
    const s = step((body) => {
      if (body.dry_run) return dryRunAnswer()
      throw refusal(code, status)
    })
    const halt = await halted(
      runTwoPhase(s, { execute: true, yes: true, prompter: scriptedPrompter([]), show: () => {} }),
    )
    expect(halt.exitCode).toBe(exit)
    expect(halt.code).toBe(code)
    expect(halt.message).toContain(`${code} (HTTP ${status}): refused: ${code}`)
    expect(halt.message).toMatch(hint)
  })

  test('a lost answer is sent again with the same body and key', async () => {
    let executions = 0
    const s = step((body) => {
      if (body.dry_run) return dryRunAnswer()
      executions++
      if (executions === 1) throw new JetmonTransportError('TRANSPORT_FAILED', 'socket hang up')
      return { ok: true }
    })
    await runTwoPhase(s, { execute: true, yes: true, prompter: scriptedPrompter([]), show: () => {} })
    expect(s.sent).toHaveLength(3)
    expect(s.sent[2]).toEqual(s.sent[1])
  })

  test('an answer that is not a dry run is a failure, not a plan', () => {
    expect(() => readDryRun({ ok: true }, 'adopt')).toThrow(/did not answer a plan/)
    expect(readDryRun(dryRunAnswer({ warnings: undefined }), 'adopt').warnings).toEqual([])
  })
})

describe('fileStore', () => {
  test('the resume file and the transcript are the owner’s only (0600, in a 0700 directory)', async () => {
    const base = await mkdtemp(join(tmpdir(), 'jetmon-guided-'))
    try {
      const dir = join(base, 'logs')
      const store = fileStore(dir, 'range 0-9/first', () => new Date('2026-01-01T00:00:00Z'))
      expect(store.resumePath).toBe(join(dir, 'range_0-9_first.resume.json'))
      store.record('one\ntwo')
      store.save({ step: 'adopt' })
      expect(store.load()).toEqual({ step: 'adopt' })
      expect(statSync(dir).mode & 0o777).toBe(0o700)
      expect(statSync(store.resumePath).mode & 0o777).toBe(0o600)
      expect(statSync(store.transcriptPath).mode & 0o777).toBe(0o600)
      store.clear()
      expect(store.load()).toBeNull()
    } finally {
      await rm(base, { recursive: true, force: true })
    }
  })
})
