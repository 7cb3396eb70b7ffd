/** How each site state looks and sorts on the dashboard (docs/events.md, "States"). */
import { EVENT_STATES, SEVERITY_NAMES, type State } from '@jetmon/vocabulary'

/**
 * The overview's count tiles, in the order of docs/events.md: the severities from healthy to
 * worst, then the states of sites nobody watches now.
 */
export const COUNTED_STATES = [...SEVERITY_NAMES, 'Maintenance', 'Paused'] as const satisfies readonly State[]
export type CountedState = (typeof COUNTED_STATES)[number]

/** Worst first: the order of the sites list (problems, then healthy, then sites nobody watches now). */
export const WORST_FIRST: readonly CountedState[] = [...[...EVENT_STATES].reverse(), 'Up', 'Maintenance', 'Paused']

/** The CSS class of a state (`st-seems-down`); the stylesheet holds the colours. */
export function stateClass(state: string): string {
  return `st-${state.toLowerCase().replace(/[^a-z]+/g, '-')}`
}

/** Parses a state name from a query string (`seems-down`, `Seems Down`); null when unknown. */
export function parseCountedState(text: string): CountedState | null {
  const key = text.toLowerCase().replace(/[^a-z]+/g, '')
  return COUNTED_STATES.find((state) => state.toLowerCase().replace(/[^a-z]+/g, '') === key) ?? null
}

/** The URL form of a state: `seems-down`. */
export function stateSlug(state: string): string {
  return state.toLowerCase().replace(/[^a-z]+/g, '-')
}
