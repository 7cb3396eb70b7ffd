import type { DbOrTx, Logger } from '@jetmon/db'
import { InvalidOptionError } from './errors.js'

/** The two consumers of `jetmon_event_transitions`, also their `jetmon_dispatch_cursors.consumer` names. */
export const DELIVERY_CONSUMERS = ['webhooks', 'alerts'] as const
export type DeliveryConsumer = (typeof DELIVERY_CONSUMERS)[number]

/** What every verb of this package takes: a database handle (or an open transaction), a logger and a clock. */
export interface DeliveryContext {
  db: DbOrTx
  /** Default: silent. */
  logger?: Logger
  /** The time every row is stamped with and every due date is compared to. Default: the system clock. */
  clock?: () => Date
}

export const systemClock = (): Date => new Date()

/** A positive integer option, or the default; anything else is a caller bug. */
export function positiveInteger(name: string, value: number | undefined, fallback: number, max?: number): number {
  const result = value ?? fallback
  if (!Number.isInteger(result) || result < 1 || (max !== undefined && result > max)) {
    throw new InvalidOptionError(
      name,
      `must be an integer from 1${max === undefined ? '' : ` to ${max}`}, got ${value}`,
    )
  }
  return result
}

/** A non-negative integer option (0 allowed), or the default. */
export function nonNegativeInteger(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback
  if (!Number.isInteger(result) || result < 0) {
    throw new InvalidOptionError(name, `must be an integer ≥ 0, got ${value}`)
  }
  return result
}

/** The pause before a loop's next pass: `baseMs` after a good one, doubling per failure up to 30 s. */
export function pauseAfter(baseMs: number, failures: number): number {
  return failures === 0 ? baseMs : Math.min(baseMs * 2 ** Math.min(failures, 6), 30_000)
}

/** A loop's sleep between passes that `wake()` ends early (a stop, new work). */
export class Nap {
  private wakeUp: (() => void) | null = null

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.wakeUp = () => {
        clearTimeout(timer)
        resolve()
      }
    }).finally(() => {
      this.wakeUp = null
    })
  }

  /** Ends the current sleep, if any. */
  wake(): void {
    this.wakeUp?.()
  }
}
