/** How each site state looks and sorts on the dashboard (docs/events.md, "States"). */

/** Every state a site can be shown in. */
export type DisplayState = 'Up' | 'Warning' | 'Degraded' | 'Seems Down' | 'Down' | 'Maintenance' | 'Paused' | 'Unknown'

/** The overview's count tiles, in the order of docs/events.md (healthy to worst, then the unwatched states). */
export const COUNTED_STATES = ['Up', 'Warning', 'Degraded', 'Seems Down', 'Down', 'Maintenance', 'Paused'] as const
export type CountedState = (typeof COUNTED_STATES)[number]

/** Worst first: the order of the sites list (problems, then healthy, then sites nobody watches now). */
export const WORST_FIRST = ['Down', 'Seems Down', 'Degraded', 'Warning', 'Up', 'Maintenance', 'Paused'] as const

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

/** Event states by severity (closed transitions say `Resolved`). */
export const EVENT_STATE_SEVERITY: Record<string, number> = { Warning: 1, Degraded: 2, 'Seems Down': 3, Down: 4 }
