/** Which checks `jetmon_check_history` keeps (`HISTORY_MODE`): every one, or failed ones only. */
export type HistoryMode = 'all' | 'failures'

/** The vantage of the monitor's own scheduled checks; anything else is a veriflier id. */
export const LOCAL_VANTAGE = 'local'

/** One completed check, as the monitor hands it to the recorder. */
export interface CheckSample {
  endpointId: bigint
  blogId: bigint
  /** When the check started. */
  checkedAt: Date
  /** `'local'` for the monitor's own checks, else the veriflier id (≤ 64 characters). */
  vantage: string
  /** HTTP method (`GET`, `HEAD`; ≤ 8 characters). */
  method: string
  /** Final HTTP status, null when no response arrived. */
  httpCode: number | null
  /** The checker's numeric error code (0 = none). */
  errorCode: number
  /**
   * Phase timings in milliseconds: null when the phase did not complete, never negative. Fractions
   * are rounded to whole milliseconds (the columns are INT).
   */
  rttMs: number | null
  dnsMs: number | null
  tcpMs: number | null
  tlsMs: number | null
  ttfbMs: number | null
  /**
   * The check counts as downtime — pass the checker's `isDowntime(result)`. Raw-history statistics
   * re-derive it from `errorCode` with the same rule, so the two must agree.
   */
  failed: boolean
  /** Certificate expiry seen by this check, for `jetmon_endpoint_state`; absent/null = not observed. */
  sslExpiresAt?: Date | null
  /** Negotiated TLS protocol (`TLSv1.3`; ≤ 16 characters); absent/null = not observed. */
  tlsVersion?: string | null
}

/** Statements and rows written to one table. */
export interface TableWrites {
  statements: number
  rows: number
}

/** Counters of a `CheckRecorder` since it was created. */
export interface RecorderStats {
  /** Rows waiting to be written: history rows + rollup rows + endpoint state rows. */
  pending: number
  pendingHistory: number
  pendingRollups: number
  pendingState: number
  /** Statements that succeeded, all tables. */
  statements: number
  /** Rows written by those statements, all tables (an upserted row counts once). */
  rowsWritten: number
  /** Per-table breakdown of `statements` and `rowsWritten`. */
  tables: { history: TableWrites; rollups: TableWrites; state: TableWrites }
  /** Duration of the last flush cycle, in milliseconds (null before the first). */
  lastFlushMs: number | null
  /** When the last flush cycle finished (null before the first). */
  lastFlushAt: Date | null
  /** Statements that failed (their rows were kept and retried). */
  errors: number
  /** History rows and rollup rows dropped, oldest first, because the buffer bound was reached. */
  dropped: { history: number; rollups: number }
}

/** What a forced flush achieved. */
export interface FlushOutcome {
  /** Everything pending at the call was written. */
  ok: boolean
  rowsWritten: number
  /** Rows still waiting (kept for the next attempt) after this flush. */
  pending: number
}
