/**
 * Live updates: one poller reads new rows of `jetmon_event_transitions` by id (the append-only
 * cursor) for every open page at once, and fans a small "these sites changed" message out to the
 * pages over server-sent events. Pages then fetch their own fresh fragment (rendered once per
 * change and shared, see the render cache in dashboard.ts).
 *
 * Slow clients never slow the service: each client gets at most `maxBufferBytes` of unsent data
 * before it is disconnected (its browser reconnects and catches up), and at most `maxClients`
 * streams are open at once (the rest are told to poll).
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type DbOrTx, eventTransitions } from '@jetmon/db'
import type { Logger } from '@jetmon/vocabulary'
import { asc, gt, max } from 'drizzle-orm'

/** One transition as pages learn of it. */
export interface LiveChange {
  blog_id: string
  event_id: string
  /** `Resolved` on a close. */
  state: string | null
  reason: string
  at: string
}

/** The data of one `change` message. */
export interface LiveMessage {
  seq: number
  /** Sites that changed (as decimal strings); `all: true` when there were too many to list. */
  blogs: string[]
  all: boolean
  changes: LiveChange[]
}

export interface LiveHubOptions {
  db: DbOrTx
  logger: Logger
  /** How often the transitions table is read (default 1 000 ms). */
  pollMs?: number
  /** Open streams at most (default 100). */
  maxClients?: number
  /** Unsent bytes one client may accumulate before it is dropped (default 64 KiB). */
  maxBufferBytes?: number
  /** Comment lines that keep idle streams (and proxies) alive, and find dead sockets (default 15 s). */
  heartbeatMs?: number
  /** Extra headers of every stream response (the dashboard's security headers). */
  headers: Record<string, string>
  /**
   * Re-checks a signed-in stream's session at every heartbeat; a stream whose session has ended
   * (expired, signed out, its key revoked or expired) is closed.
   */
  sessionValid?: (sessionId: string) => Promise<boolean>
}

interface Client {
  res: ServerResponse
  /** The sign-in session the stream was opened with, if any. */
  sessionId: string | null
}

/** Rows re-read behind the cursor: ids are assigned at insert, transactions commit in any order. */
const TAIL = 100
const BATCH = 1000
const RING = 256
const MAX_LISTED_BLOGS = 500
const MAX_LISTED_CHANGES = 100

/** The poller and the open streams. Create one per dashboard; `close()` ends every stream. */
export class LiveHub {
  /** Changes with an id from another process start (a restart) cannot be replayed. */
  readonly epoch = randomBytes(4).toString('hex')
  private seqValue = 0
  private cursorId: bigint | null = null
  private readonly seen = new Set<bigint>()
  private readonly ring: { seq: number; frame: string }[] = []
  private readonly clients = new Set<Client>()
  private readonly listeners = new Set<(message: LiveMessage) => void>()
  private pollTimer: NodeJS.Timeout | undefined
  private heartbeatTimer: NodeJS.Timeout | undefined
  private closed = false
  private failing = false
  private counters = { dropped: 0, refused: 0, polls: 0, messages: 0 }
  private readonly pollMs: number
  private readonly maxClients: number
  private readonly maxBufferBytes: number

  constructor(private readonly options: LiveHubOptions) {
    this.pollMs = options.pollMs ?? 1_000
    this.maxClients = options.maxClients ?? 100
    this.maxBufferBytes = options.maxBufferBytes ?? 64 * 1024
  }

  /** Starts polling and the heartbeat. */
  start(): void {
    if (this.pollTimer || this.closed) return
    this.schedule(0)
    this.heartbeatTimer = setInterval(() => {
      for (const client of this.clients) this.send(client, ': ping\n\n')
      this.recheckSessions()
    }, this.options.heartbeatMs ?? 15_000)
    this.heartbeatTimer.unref()
  }

  /** The position a page rendered now should resume from: `<epoch>.<seq>`. */
  get position(): string {
    return `${this.epoch}.${this.seqValue}`
  }

  /** Increases with every change message; render caches key on it. */
  get seq(): number {
    return this.seqValue
  }

  /** Called (synchronously, in the poller) with every change message. */
  onChange(listener: (message: LiveMessage) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  stats(): { clients: number; dropped: number; refused: number; polls: number; messages: number } {
    return { clients: this.clients.size, ...this.counters }
  }

  /**
   * Serves one event stream. `after` (the page's position, or the browser's `Last-Event-ID` on a
   * reconnect) replays what the page missed, or sends `resync` when that is no longer possible.
   */
  connect(req: IncomingMessage, res: ServerResponse, after: string | null, sessionId: string | null = null): void {
    if (this.closed || this.clients.size >= this.maxClients) {
      this.counters.refused++
      res.writeHead(503, {
        ...this.options.headers,
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        'retry-after': '30',
      })
      res.end('{"error":"too_many_live_clients","message":"Too many open dashboard pages; this one will poll."}\n')
      return
    }
    res.writeHead(200, {
      ...this.options.headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    req.socket.setNoDelay(true)
    const client: Client = { res, sessionId }
    this.clients.add(client)
    const forget = () => this.clients.delete(client)
    res.on('close', forget)
    res.on('error', forget)
    this.send(client, 'retry: 3000\n\n')
    if (after) {
      const [epoch, seqText] = after.split('.', 2)
      const seq = Number(seqText)
      const oldest = this.ring[0]?.seq ?? this.seqValue + 1
      if (epoch === this.epoch && Number.isSafeInteger(seq) && seq <= this.seqValue && seq >= oldest - 1) {
        for (const entry of this.ring) if (entry.seq > seq) this.send(client, entry.frame)
      } else {
        this.send(client, `id: ${this.position}\nevent: resync\ndata: {}\n\n`)
      }
    }
  }

  /** Ends the streams opened with this session (at sign-out). */
  endSession(sessionId: string): void {
    for (const client of this.clients) {
      if (client.sessionId === sessionId) {
        this.clients.delete(client)
        client.res.end()
      }
    }
  }

  private recheckSessions(): void {
    const check = this.options.sessionValid
    if (!check) return
    const ids = new Set<string>()
    for (const client of this.clients) if (client.sessionId) ids.add(client.sessionId)
    for (const id of ids) {
      check(id).then(
        (valid) => {
          if (!valid) this.endSession(id)
        },
        (error: unknown) => this.options.logger.warn({ err: error }, 'could not re-check a live stream’s session'),
      )
    }
  }

  /** Stops polling and ends every stream. */
  close(): void {
    this.closed = true
    clearTimeout(this.pollTimer)
    clearInterval(this.heartbeatTimer)
    for (const client of this.clients) client.res.end()
    this.clients.clear()
    this.listeners.clear()
  }

  private send(client: Client, frame: string): void {
    const res = client.res
    if (res.destroyed || res.writableEnded) {
      this.clients.delete(client)
      return
    }
    if (res.writableLength + Buffer.byteLength(frame) > this.maxBufferBytes) {
      // The browser is not reading: let it go rather than hold memory for it. It reconnects with
      // its last event id and catches up (or resyncs).
      this.counters.dropped++
      this.clients.delete(client)
      res.destroy()
      return
    }
    res.write(frame)
  }

  private schedule(delayMs: number): void {
    if (this.closed) return
    this.pollTimer = setTimeout(() => {
      void this.poll().then((full) => this.schedule(full ? 0 : this.pollMs))
    }, delayMs)
    this.pollTimer.unref()
  }

  /**
   * One read of new transitions, publishing what it finds; resolves true when a full batch came
   * back (more are waiting). The poller never overlaps itself: the next read is scheduled after it.
   */
  async poll(): Promise<boolean> {
    let full = false
    try {
      this.counters.polls++
      const db = this.options.db
      if (this.cursorId === null) {
        const [row] = await db.select({ id: max(eventTransitions.id) }).from(eventTransitions)
        const latest = row?.id === null || row?.id === undefined ? 0n : BigInt(row.id)
        const rows = await db
          .select({ id: eventTransitions.id })
          .from(eventTransitions)
          .where(gt(eventTransitions.id, latest > TAIL ? latest - BigInt(TAIL) : 0n))
        for (const { id } of rows) this.seen.add(id)
        this.cursorId = latest
      } else {
        const from = this.cursorId > TAIL ? this.cursorId - BigInt(TAIL) : 0n
        const rows = await db
          .select({
            id: eventTransitions.id,
            blogId: eventTransitions.blogId,
            eventId: eventTransitions.eventId,
            stateAfter: eventTransitions.stateAfter,
            reason: eventTransitions.reason,
            changedAt: eventTransitions.changedAt,
          })
          .from(eventTransitions)
          .where(gt(eventTransitions.id, from))
          .orderBy(asc(eventTransitions.id))
          .limit(BATCH)
        full = rows.length === BATCH
        const fresh = rows.filter((row) => !this.seen.has(row.id))
        for (const row of rows) {
          this.seen.add(row.id)
          if (row.id > this.cursorId) this.cursorId = row.id
        }
        const floor = this.cursorId - BigInt(TAIL)
        for (const id of this.seen) if (id <= floor) this.seen.delete(id)
        if (fresh.length) this.publish(fresh)
      }
      if (this.failing) this.options.logger.info('dashboard live updates: reading transitions again')
      this.failing = false
    } catch (error) {
      if (!this.failing) {
        this.options.logger.warn(
          { err: error },
          'dashboard live updates: cannot read jetmon_event_transitions; open pages will not update until the database answers',
        )
      }
      this.failing = true
    }
    return full
  }

  private publish(
    rows: { blogId: bigint; eventId: bigint; stateAfter: string | null; reason: string; changedAt: Date }[],
  ): void {
    const blogs = [...new Set(rows.map((row) => row.blogId.toString()))]
    const message: LiveMessage = {
      seq: ++this.seqValue,
      blogs: blogs.slice(0, MAX_LISTED_BLOGS),
      all: blogs.length > MAX_LISTED_BLOGS,
      changes: rows.slice(-MAX_LISTED_CHANGES).map((row) => ({
        blog_id: row.blogId.toString(),
        event_id: row.eventId.toString(),
        state: row.stateAfter,
        reason: row.reason,
        at: row.changedAt.toISOString(),
      })),
    }
    this.counters.messages++
    const frame = `id: ${this.position}\nevent: change\ndata: ${JSON.stringify(message)}\n\n`
    this.ring.push({ seq: message.seq, frame })
    if (this.ring.length > RING) this.ring.shift()
    for (const listener of this.listeners) listener(message)
    for (const client of this.clients) this.send(client, frame)
  }
}
