/** The event-log shapes the uptime figures and the uptime bar share (from `@jetmon/read-models`). */
import type { UptimeInput } from '@jetmon/read-models'

export type UptimeEvent = UptimeInput['events'][number]
export type StateChange = UptimeInput['changes'][number]
export type MaintenancePeriod = UptimeInput['windows'][number]
