/**
 * What each of the monitor's builders returns: the part it started, and how a drain stops it.
 * `MonitorService` keeps them in start order and stops them in reverse.
 */
export interface Running {
  /** For the log when a part does not stop cleanly. */
  readonly name: string
  /** Stops the part; `left()` is what remains of the drain's time budget in ms (never under 1 s). */
  stop(left: () => number): Promise<void>
}
