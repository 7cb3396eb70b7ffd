import { createLogger } from '@jetmon/logging'
import { useTestDatabase } from '@jetmon/testkit'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import type { Jetmon2Config } from '../config.js'
import { startObjectiveEvaluator } from './slo.js'

const database = useTestDatabase()

describe('the objective evaluator of jetmon2 serve', () => {
  it('counts the minutes this host evaluated and those another host had', async () => {
    const minute = new Date('2026-05-20T12:00:05Z')
    const part = (host: string, registry: Registry) =>
      startObjectiveEvaluator({
        db: database().db,
        config: () => ({ HOST_ID: host }) as Jetmon2Config,
        logger: createLogger({ level: 'silent' }),
        registry,
        clock: () => minute,
      })
    const [a, b] = [new Registry(), new Registry()]
    const [first, second] = [part('host-a', a), part('host-b', b)]
    try {
      expect(await first.evaluator.runOnce()).toMatchObject({ claimed: true })
      expect(await second.evaluator.runOnce()).toMatchObject({ claimed: false })
      expect(await a.metrics()).toMatch(/^jetmon_slo_evaluations_total\{outcome="evaluated"\} 1$/m)
      expect(await a.metrics()).toMatch(/^jetmon_slo_objectives 0$/m)
      expect(await b.metrics()).toMatch(/^jetmon_slo_evaluations_total\{outcome="skipped"\} 1$/m)
    } finally {
      await first.stop(() => 1_000)
      await second.stop(() => 1_000)
    }
  })
})
