/**
 * The uptime bar: the period cut into cells (hours or days), each coloured by the worst state any
 * event of the site was in during it, else Maintenance when a window covered it, else Up when
 * checks ran, else "No data". Pure, so the rules are tested on hand-built timelines.
 */
import { type EventState, isEventState, nominalSeverity, RESOLVED, type SeverityName } from '@jetmon/vocabulary'
import type { MaintenancePeriod, StateChange, UptimeEvent } from './_uptime-types.js'

/** What a cell shows: a severity, Maintenance, or no data at all. */
export type CellState = SeverityName | 'Maintenance' | 'No data'

export interface UptimeCell {
  startMs: number
  endMs: number
  state: CellState
  /** Time spent in each event state inside the cell (ms), for the tooltip. */
  durations: Partial<Record<EventState | 'Maintenance', number>>
  /** Local checks recorded in the cell. */
  checks: number
}

/** A stretch of one event's life in one state. */
export interface StateSegment {
  eventId: bigint
  state: string
  startMs: number
  endMs: number
}

/**
 * The states an event went through, from its transitions in id order: the opening transition's
 * state from `started_at`, then each change, until the close (or now).
 */
export function eventSegments(event: UptimeEvent, changes: readonly StateChange[], nowMs: number): StateSegment[] {
  const start = event.startedAt
  const end = Math.max(start, event.endedAt ?? nowMs)
  const segments: StateSegment[] = []
  let state = changes[0]?.stateAfter ?? event.state
  let segmentStart = start
  for (const change of changes.slice(1)) {
    if (change.stateAfter === null || change.stateAfter === state) continue
    const at = Math.min(Math.max(change.changedAt, start), end)
    if (at > segmentStart) segments.push({ eventId: event.id, state, startMs: segmentStart, endMs: at })
    if (change.stateAfter === RESOLVED) {
      segmentStart = end
      break
    }
    state = change.stateAfter
    segmentStart = at
  }
  if (segmentStart < end) segments.push({ eventId: event.id, state, startMs: segmentStart, endMs: end })
  return segments
}

export interface CellsInput {
  fromMs: number
  cellMs: number
  cells: number
  nowMs: number
  segments: readonly StateSegment[]
  windows: readonly MaintenancePeriod[]
  /** Local checks per cell index. */
  checks: ReadonlyMap<number, number>
}

/** One cell per `cellMs` from `fromMs`. */
export function uptimeCells(input: CellsInput): UptimeCell[] {
  const cells: UptimeCell[] = []
  for (let i = 0; i < input.cells; i++) {
    const startMs = input.fromMs + i * input.cellMs
    const endMs = startMs + input.cellMs
    const durations: UptimeCell['durations'] = {}
    let worst = 0
    let worstState: CellState | null = null
    for (const segment of input.segments) {
      const overlap = Math.min(segment.endMs, endMs) - Math.max(segment.startMs, startMs)
      if (overlap <= 0) continue
      if (!isEventState(segment.state)) continue
      const severity = nominalSeverity(segment.state)
      durations[segment.state] = (durations[segment.state] ?? 0) + overlap
      if (severity > worst) {
        worst = severity
        worstState = segment.state
      }
    }
    let maintenance = 0
    for (const window of input.windows) {
      const overlap = Math.min(window.endsAt, endMs, input.nowMs) - Math.max(window.startsAt, startMs)
      if (overlap > 0) maintenance += overlap
    }
    if (maintenance > 0) durations.Maintenance = Math.min(maintenance, input.cellMs)
    const checks = input.checks.get(i) ?? 0
    const state: CellState = worstState ?? (maintenance > 0 ? 'Maintenance' : checks > 0 ? 'Up' : 'No data')
    cells.push({ startMs, endMs, state, durations, checks })
  }
  return cells
}
