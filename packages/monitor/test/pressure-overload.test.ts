/**
 * A monitor overloaded on purpose: its event loop is stalled right after every dispatch, longer
 * than the checks' timeout, so that checks of healthy fixture sites time out because of the
 * monitor, not the sites. With the pressure judge those timeouts give no verdict; without it (the
 * control group, same scheduler, same stalls) they open incidents. Once the pressure ends, a site
 * that really hangs is confirmed Down.
 */
import { events } from '@jetmon/db'
import { Scheduler } from '@jetmon/scheduler'
import { waitFor } from '@jetmon/testkit'
import { inArray } from 'drizzle-orm'
import { afterEach, expect, it } from 'vitest'
import { EventLoopDelay } from '../src/event-loop.js'
import { ConfirmationPipeline, type MonitoredEndpoint } from '../src/pipeline.js'
import { judgedCheck, PressureJudge } from '../src/pressure.js'
import { pipelineSettings, useCheckFixtures } from './fixtures.js'

const world = useCheckFixtures()

const TIMEOUT_MS = 1_000
/** Longer than the timeout: every check in flight when the loop stalls misses its deadline. */
const STALL_MS = 1_300

function busyWait(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // The monitor is busy: nothing else in this process runs.
  }
}

const stoppers: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const stop of stoppers.splice(0).reverse()) await stop()
})

it('an overloaded monitor opens no incident for healthy sites and still confirms a real outage once the pressure ends', async () => {
  const fast = { intervalMs: 500, timeoutMs: TIMEOUT_MS }
  const healthy: MonitoredEndpoint[] = []
  const control: MonitoredEndpoint[] = []
  for (let i = 0; i < 4; i++) healthy.push((await world.endpoint({}, fast)).ep)
  for (let i = 0; i < 4; i++) control.push((await world.endpoint({}, fast)).ep)
  // A real outage: the site accepts the connection and never answers.
  const down = (await world.endpoint({ ttfbMs: Number.POSITIVE_INFINITY }, fast)).ep

  const settings = pipelineSettings({
    numOfChecks: 2,
    retryIntervalMs: 200,
    failedCheckIntervalMs: 500,
    flapWindowMs: 0,
  })
  let scheduler: Scheduler | undefined
  const eventLoop = new EventLoopDelay({ beatEveryMs: 50, onBeat: () => judge.sample() })
  const judge = new PressureJudge({
    bounds: () => ({ dispatchLagMs: 2_000, eventLoopDelayMs: 150 }),
    read: () => ({
      eventLoopDelayMs: eventLoop.read(),
      inFlight: scheduler?.inFlight ?? 0,
      maxInFlight: scheduler?.maxInFlight ?? 0,
    }),
    lagWindowMs: 500,
  })
  const judged = new ConfirmationPipeline({
    db: world.db,
    check: judgedCheck(world.check, judge),
    decide: () => 'inconclusive',
    followEveryMs: 0,
    settings,
  })
  const unjudged = new ConfirmationPipeline({
    db: world.db,
    check: world.check,
    decide: () => 'inconclusive',
    followEveryMs: 0,
    settings: { ...settings },
  })
  const endpoints = new Map<bigint, { ep: MonitoredEndpoint; pipeline: ConfirmationPipeline }>()
  for (const ep of [...healthy, down]) endpoints.set(ep.endpointId, { ep, pipeline: judged })
  for (const ep of control) endpoints.set(ep.endpointId, { ep, pipeline: unjudged })

  // The overload: right after a dispatch, the loop is kept busy for longer than a check's timeout.
  let overloaded = true
  let stallQueued = false
  const checkedUnderLoad = new Map<bigint, number>()
  const stall = () => {
    if (stallQueued) return
    stallQueued = true
    setImmediate(() => {
      stallQueued = false
      busyWait(STALL_MS)
    })
  }
  scheduler = new Scheduler({
    maxInFlight: 64,
    tickMs: 20,
    run: async (endpointId, context) => {
      judge.dispatched(context.startedAt - context.dueAt)
      const target = endpoints.get(endpointId)!
      const delay = target.pipeline.runCheck(target.ep)
      if (overloaded) {
        checkedUnderLoad.set(endpointId, (checkedUnderLoad.get(endpointId) ?? 0) + 1)
        stall()
      }
      return delay
    },
  })
  for (const { ep } of endpoints.values()) scheduler.upsert(ep.endpointId, ep.intervalMs)
  eventLoop.start()
  scheduler.start()
  stoppers.push(async () => {
    eventLoop.stop()
    await scheduler.stop({ timeoutMs: 5_000 })
    await Promise.all([judged.settle(), unjudged.settle()])
  })

  const eventsOf = (list: MonitoredEndpoint[]) =>
    world.db
      .select()
      .from(events)
      .where(
        inArray(
          events.endpointId,
          list.map((ep) => ep.endpointId),
        ),
      )

  // Under load: every endpoint is checked at least twice (enough to open and confirm without the
  // judge), and the stalls really do make healthy sites look down to a monitor that does not judge.
  await waitFor(
    'two overloaded checks of every endpoint, and the control group misjudging a healthy site',
    async () =>
      [...endpoints.keys()].every((id) => (checkedUnderLoad.get(id) ?? 0) >= 2) && (await eventsOf(control)).length > 0,
    { timeoutMs: 20_000 },
  )
  expect(judge.suppressed).toBeGreaterThan(0)
  expect(judged.stats.opened).toBe(0)
  overloaded = false
  const loadEndedAt = Date.now()

  // The pressure ends; the hanging site is confirmed Down from checks made after it.
  await waitFor('the pressure to end', () => judge.status().state === 'green')
  const [incident] = await waitFor('the real outage to be confirmed Down', async () => {
    const found = await eventsOf([down])
    return found.some((event) => event.state === 'Down') ? found : null
  })
  expect(incident).toMatchObject({ checkType: 'http', state: 'Down', endedAt: null })
  expect(incident!.startedAt.getTime()).toBeGreaterThanOrEqual(loadEndedAt - STALL_MS)

  // Healthy sites checked again after the pressure stay quiet, and none ever had an event.
  // (An endpoint due more than an interval after the load ended has had a check settle since.)
  await waitFor('every healthy site checked after the pressure', () =>
    healthy.every((ep) => scheduler.get(ep.endpointId)!.dueAt > loadEndedAt + ep.intervalMs),
  )
  expect(await eventsOf(healthy)).toEqual([])
  expect(judged.stats).toMatchObject({ opened: 1, confirmed: 1, falseAlarms: 0 })
  expect((await eventsOf(control)).length).toBeGreaterThan(0)
  // Its waits add up to more than the default test timeout on a loaded machine.
}, 90_000)
