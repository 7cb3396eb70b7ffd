import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { CheckRequest } from '@jetmon/checker'
import { endpointConfig, events, eventTransitions, noopLogger } from '@jetmon/db'
import { listOpenEvents } from '@jetmon/eventstore'
import { DEFAULT_ENDPOINT_DEFAULTS } from '@jetmon/scheduler'
import type { DetectionProfile } from '@jetmon/vocabulary'
import { asc, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import {
  ConfirmationPipeline,
  type Decision,
  type DownNotice,
  type MonitoredEndpoint,
  type Vote,
} from '../src/pipeline.js'
import { MonitorProbe } from '../src/probe.js'
import { askVerifliers } from '../src/veriflier-client.js'
import { pipelineSettings, useCheckFixtures } from './fixtures.js'

// The check policy on the monitor's path: every check, the verifliers' and trigger-now's included,
// is judged with the endpoint's request method and detection profile.

const world = useCheckFixtures()

const decide = (votes: Vote[], quorum: number): Decision => {
  const down = votes.filter((v) => v.vote === 'down').length
  const up = votes.filter((v) => v.vote === 'up').length
  return down >= quorum ? 'confirmed' : up + down >= quorum ? 'false_alarm' : 'inconclusive'
}

const vote = (veriflier: string, v: Vote['vote'], errorCode: number | null = v === 'down' ? 10 : 0): Vote => ({
  veriflier,
  region: `region-${veriflier}`,
  vote: v,
  httpStatus: v === 'error' ? null : v === 'up' ? 200 : 503,
  errorCode: v === 'error' ? null : errorCode,
  rttMs: 15,
  checkMs: v === 'error' ? null : 9,
})

function pipeline(options: { verifliers?: Vote[][] } = {}) {
  const rounds = [...(options.verifliers ?? [])]
  const asked: CheckRequest[] = []
  const checked: CheckRequest[] = []
  const notices: DownNotice[] = []
  const votesRecorded: { endpointId: bigint; vantage: string; errorCode: number | null; at: Date }[] = []
  const p = new ConfirmationPipeline({
    db: world.db,
    check: (request) => {
      checked.push(request)
      return world.check(request)
    },
    decide,
    followEveryMs: 0,
    askVerifliers: options.verifliers
      ? async (_endpoint, request) => {
          asked.push(request)
          return rounds.shift() ?? []
        }
      : undefined,
    recordVotes: (endpoint, votes, at) => {
      for (const v of votes)
        votesRecorded.push({ endpointId: endpoint.endpointId, vantage: v.veriflier, errorCode: v.errorCode, at })
    },
    notify: (notice) => notices.push(notice),
    settings: pipelineSettings({ veriflierCount: options.verifliers ? 2 : 0, quorum: 2 }),
  })
  return { p, asked, checked, notices, votesRecorded }
}

async function reasons(endpointId: bigint) {
  const rows = await world.db
    .select({ checkType: events.checkType, reason: eventTransitions.reason, stateAfter: eventTransitions.stateAfter })
    .from(eventTransitions)
    .innerJoin(events, eq(events.id, eventTransitions.eventId))
    .where(eq(eventTransitions.endpointId, endpointId))
    .orderBy(asc(eventTransitions.id))
  return rows.map((row) => [row.checkType, row.reason, row.stateAfter])
}

async function httpState(endpointId: bigint) {
  const open = await listOpenEvents({ ctx: { db: world.db }, endpointId, checkType: 'http' })
  return open[0]?.state ?? null
}

const NEEDLE = 'needle-7f3a'
const missingKeyword = { status: 200, body: `<html><body>${'a page without the word '.repeat(8)}</body></html>` }
const truncated = { truncateAfterBytes: 512 }

describe('the detection profile on the monitor path', () => {
  it('legacy: a keyword failure and a truncated body are not Down; full: both are; simple_http: only the keyword', async () => {
    const { p, checked } = pipeline()
    const cases: [string, DetectionProfile, typeof missingKeyword | typeof truncated, string | null][] = [
      ['legacy keyword', 'legacy', missingKeyword, NEEDLE],
      ['legacy truncated', 'legacy', truncated, null],
      ['simple_http keyword', 'simple_http', missingKeyword, NEEDLE],
      ['simple_http truncated', 'simple_http', truncated, null],
      ['full keyword', 'full', missingKeyword, NEEDLE],
      ['full truncated', 'full', truncated, null],
    ]
    const verdicts: Record<string, string | null> = {}
    for (const [label, profile, site, keyword] of cases) {
      const { ep } = await world.endpoint(site, { profile, keyword })
      for (let i = 0; i < 3; i++) await p.runCheck(ep)
      verdicts[label] = await httpState(ep.endpointId)
    }
    expect(verdicts).toEqual({
      'legacy keyword': null,
      'legacy truncated': null,
      'simple_http keyword': 'Down',
      'simple_http truncated': null,
      'full keyword': 'Down',
      'full truncated': 'Down',
    })
    // Each check went to the checker with the endpoint's profile.
    expect(new Set(checked.map((request) => request.profile))).toEqual(new Set(['legacy', 'simple_http', 'full']))
  })

  it('an endpoint without a profile is judged as full', async () => {
    const { p, checked } = pipeline()
    const { ep } = await world.endpoint(truncated)
    for (let i = 0; i < 3; i++) await p.runCheck(ep)
    expect(await httpState(ep.endpointId)).toBe('Down')
    expect(checked.at(-1)?.profile).toBeUndefined()
  })

  it('opens advisories under full only, and closes one left open when the endpoint leaves full', async () => {
    const { p } = pipeline()
    const site = await world.endpoint({ status: 200 })
    const oldTls = world.sites.url(site.name, '/', { legacyTls: true })
    await p.runCheck({ ...site.ep, url: oldTls, profile: 'legacy' })
    await p.runCheck({ ...site.ep, url: oldTls, profile: 'simple_http' })
    expect(await reasons(site.ep.endpointId)).toEqual([])

    await p.runCheck({ ...site.ep, url: oldTls, profile: 'full' })
    expect(await reasons(site.ep.endpointId)).toEqual([['tls_deprecated', 'opened', 'Warning']])
    await p.runCheck({ ...site.ep, url: oldTls, profile: 'legacy' })
    expect(await reasons(site.ep.endpointId)).toEqual([
      ['tls_deprecated', 'opened', 'Warning'],
      ['tls_deprecated', 'probe_cleared', 'Resolved'],
    ])
  })

  it('asks the verifliers with the method and profile the local check used', async () => {
    const { p, asked } = pipeline({ verifliers: [[vote('v1', 'down'), vote('v2', 'down')]] })
    const { ep } = await world.endpoint({ status: 503 }, { method: 'HEAD', profile: 'legacy' })
    for (let i = 0; i < 3; i++) await p.runCheck(ep)
    await p.settle()
    expect(asked).toHaveLength(1)
    expect(asked[0]).toMatchObject({ method: 'HEAD', profile: 'legacy' })
  })

  it('sends the profile and method to a veriflier with every check, on the wire', async () => {
    const bodies: { checks: Record<string, unknown>[] }[] = []
    const server = createServer((req, res) => {
      let raw = ''
      req.on('data', (chunk) => {
        raw += chunk
      })
      req.on('end', () => {
        const body = JSON.parse(raw) as { checks: { endpoint_id: string }[] }
        bodies.push(body)
        res.setHeader('content-type', 'application/json')
        res.end(
          JSON.stringify({
            veriflier: { id: 'v1', region: 'r', version: '2' },
            results: body.checks.map((check) => ({
              endpoint_id: check.endpoint_id,
              ok: true,
              error: null,
              error_code: 0,
              http_status: 200,
            })),
          }),
        )
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
      await askVerifliers({
        verifliers: [{ id: 'v1', region: 'r', url, token: 't' }],
        checks: [
          { endpointId: 1n, url: 'https://a.example/', method: 'HEAD', profile: 'legacy' },
          { endpointId: 2n, url: 'https://b.example/', method: 'GET', profile: 'simple_http' },
        ],
        timeoutMs: 2_000,
      })
    } finally {
      server.close()
    }
    expect(bodies[0]?.checks.map((check) => [check.endpoint_id, check.method, check.profile])).toEqual([
      ['1', 'HEAD', 'legacy'],
      ['2', 'GET', 'simple_http'],
    ])
  })
})

describe('trigger-now', () => {
  async function storedEndpoint(profile: DetectionProfile | null) {
    const { ep } = await world.endpoint(missingKeyword)
    await world.db
      .insert(endpointConfig)
      .values({ endpointId: ep.endpointId, checkKeyword: NEEDLE, detectionProfile: profile })
    return ep
  }

  function probe(defaults: { detectionProfile?: DetectionProfile }, owned?: MonitoredEndpoint) {
    return new MonitorProbe({
      db: world.db,
      check: world.check,
      pipeline: pipeline().p,
      owned: (endpointId) => (owned?.endpointId === endpointId ? owned : undefined),
      defaults: () => ({ ...DEFAULT_ENDPOINT_DEFAULTS, ...defaults }),
      projection: () => true,
      logger: noopLogger,
    })
  }

  it('judges with the stored profile, NULL taking the fleet default', async () => {
    const legacy = await storedEndpoint('legacy')
    const full = await storedEndpoint('full')
    const unset = await storedEndpoint(null)
    const ids = [legacy, full, unset].map((ep) => ({ endpointId: ep.endpointId, blogId: ep.blogId }))

    const fullFleet = await probe({}).probe(ids, 'api:test')
    expect(fullFleet.map((answer) => [answer.success, answer.error])).toEqual([
      [true, null],
      [false, 'keyword'],
      [false, 'keyword'],
    ])
    const legacyFleet = await probe({ detectionProfile: 'legacy' }).probe(ids, 'api:test')
    expect(legacyFleet.map((answer) => [answer.success, answer.error])).toEqual([
      [true, null],
      [false, 'keyword'],
      [true, null],
    ])
  })

  it('runs an owned endpoint through the pipeline with its profile', async () => {
    const { ep } = await world.endpoint(missingKeyword, { keyword: NEEDLE, profile: 'legacy' })
    const [answer] = await probe({}, ep).probe([{ endpointId: ep.endpointId, blogId: ep.blogId }], 'api:test')
    expect(answer).toMatchObject({ success: true, outcome: 'ok' })
  })
})

describe('an endpoint already confirmed Down', () => {
  it('keeps failing without a new confirmation round or notice, and each such check is counted', async () => {
    const { p, asked, notices } = pipeline({ verifliers: [[vote('v1', 'down'), vote('v2', 'down')]] })
    const { ep } = await world.endpoint({ status: 503 })
    for (let i = 0; i < 3; i++) await p.runCheck(ep)
    await p.settle()
    expect(await httpState(ep.endpointId)).toBe('Down')
    expect(p.stats.stillDown).toBe(0)

    for (let i = 0; i < 4; i++) expect(await p.runCheck(ep)).toBe(60_000) // FAILED_CHECK_INTERVAL
    await p.settle()
    expect(asked).toHaveLength(1)
    expect(notices.map((notice) => notice.statusId)).toEqual([2])
    expect(p.stats.stillDown).toBe(4)
    expect((await reasons(ep.endpointId)).map(([, reason]) => reason)).toEqual(['opened', 'verifier_confirmed'])
  })
})

describe("the verifliers' votes", () => {
  it('go to the history with each veriflier as vantage; a veriflier that checked nothing gives none', async () => {
    const { p, votesRecorded } = pipeline({
      verifliers: [[vote('v-eu', 'down'), vote('v-us', 'down'), vote('v-ap', 'error')]],
    })
    const { ep } = await world.endpoint({ status: 503 })
    for (let i = 0; i < 3; i++) await p.runCheck(ep)
    await p.settle()
    expect(await httpState(ep.endpointId)).toBe('Down')
    expect(votesRecorded.map(({ endpointId, vantage, errorCode }) => [endpointId, vantage, errorCode])).toEqual([
      [ep.endpointId, 'v-eu', 10],
      [ep.endpointId, 'v-us', 10],
    ])
    expect(votesRecorded[0]?.at).toBeInstanceOf(Date)
  })
})
