/**
 * Preflight: the read-only checks before a range moves to a Jetmon 2 host. Each check passes or
 * fails, and a failing `blocking` check means the range must not be activated yet.
 */
import { hosts, loadMigrations, MIGRATIONS_TABLE, rolloutLocks } from '@jetmon/db'
import { auditLegacySites } from '@jetmon/legacy'
import { and, type Column, eq, gt, gte, inArray, lte, sql } from 'drizzle-orm'
import {
  nowOf,
  type RolloutChecksContext,
  rangeText,
  refuse,
  requireOpenSession,
  requireRange,
} from './_checks-common.js'
import { probeVerifliers, vantagesOf } from './_checks-verifliers.js'
import { recordJob } from './jobs.js'

export type PreflightCheckName =
  | 'database_migrated'
  | 'host_registered'
  | 'host_api_controlled'
  | 'host_heartbeat_fresh'
  | 'no_overlapping_lock'
  | 'no_pinned_host'
  | 'no_dynamic_owner'
  | 'verifliers_reachable'
  | 'verifliers_protocol'
  | 'verifliers_distinct'
  | 'verifliers_quorum'
  | 'audit_clean'
  | 'projection_enabled'

/** One preflight check: whether it passed, whether a failure blocks, what it means. */
export interface PreflightCheck {
  name: PreflightCheckName
  ok: boolean
  severity: 'blocking' | 'warning'
  /** What was found and, on failure, what to do. */
  message: string
  details: Record<string, unknown>
}

export interface PreflightInput {
  bucketMin: number
  bucketMax: number
  /** The `HOST_ID` of the api-controlled host the range is to move to. */
  hostId: string
  sessionId?: bigint | null
}

export interface PreflightResult {
  jobId: bigint
  /** No blocking check failed. */
  ok: boolean
  checks: PreflightCheck[]
}

const DEFAULT_HEARTBEAT_MAX_AGE_MS = 30_000

function pass(name: PreflightCheckName, severity: PreflightCheck['severity'], message: string, details = {}) {
  return { name, ok: true, severity, message, details } satisfies PreflightCheck
}
function fail(name: PreflightCheckName, severity: PreflightCheck['severity'], message: string, details = {}) {
  return { name, ok: false, severity, message, details } satisfies PreflightCheck
}

async function databaseMigrated(ctx: RolloutChecksContext): Promise<PreflightCheck> {
  const known = loadMigrations()
  const [rows] = (await ctx.db.execute(sql.raw(`SELECT tag, hash FROM \`${MIGRATIONS_TABLE}\``))) as unknown as [
    { tag: string; hash: string }[],
  ]
  const applied = new Map(rows.map((row) => [row.tag, row.hash]))
  const pending = known.filter((m) => !applied.has(m.tag)).map((m) => m.tag)
  const modified = known.filter((m) => applied.has(m.tag) && applied.get(m.tag) !== m.hash).map((m) => m.tag)
  const details = { applied: applied.size, known: known.length, pending, modified }
  if (pending.length > 0) {
    return fail(
      'database_migrated',
      'blocking',
      `${pending.length} migration(s) of this version are not applied (${pending.join(', ')}): run \`jetmon2 migrate\` first`,
      details,
    )
  }
  if (modified.length > 0) {
    return fail(
      'database_migrated',
      'blocking',
      `applied migration(s) ${modified.join(', ')} differ from this version's files: the database and this build disagree on the schema`,
      details,
    )
  }
  return pass('database_migrated', 'blocking', `all ${known.length} migrations are applied`, details)
}

async function hostChecks(ctx: RolloutChecksContext, hostId: string, now: Date): Promise<PreflightCheck[]> {
  const [host] = await ctx.db.select().from(hosts).where(eq(hosts.hostId, hostId)).limit(1)
  if (!host) {
    const message = `host ${hostId} has never registered: start it with ROLLOUT_MODE=api-controlled and HOST_ID=${hostId}, then run preflight again`
    return [
      fail('host_registered', 'blocking', message, { host_id: hostId }),
      fail('host_api_controlled', 'blocking', 'unknown host', { host_id: hostId }),
      fail('host_heartbeat_fresh', 'blocking', 'unknown host', { host_id: hostId }),
    ]
  }
  const maxAgeMs = ctx.heartbeatMaxAgeMs ?? DEFAULT_HEARTBEAT_MAX_AGE_MS
  const ageMs = now.getTime() - host.heartbeatAt.getTime()
  const details = {
    host_id: hostId,
    rollout_mode: host.rolloutMode,
    status: host.status,
    heartbeat_at: host.heartbeatAt.toISOString(),
    heartbeat_age_ms: ageMs,
    version: host.version,
  }
  const fresh = host.status === 'active' && ageMs <= maxAgeMs
  return [
    pass('host_registered', 'blocking', `host ${hostId} is registered (version ${host.version ?? 'unknown'})`, details),
    host.rolloutMode === 'api-controlled'
      ? pass('host_api_controlled', 'blocking', `host ${hostId} runs with ROLLOUT_MODE=api-controlled`, details)
      : fail(
          'host_api_controlled',
          'blocking',
          `host ${hostId} runs with ROLLOUT_MODE=${host.rolloutMode}: restart it with ROLLOUT_MODE=api-controlled so that it checks only the ranges activated for it`,
          details,
        ),
    fresh
      ? pass('host_heartbeat_fresh', 'blocking', `host ${hostId} heartbeat ${Math.round(ageMs / 1000)} s ago`, details)
      : fail(
          'host_heartbeat_fresh',
          'blocking',
          host.status !== 'active'
            ? `host ${hostId} is ${host.status}: wait until it runs again`
            : `host ${hostId} last heartbeat ${Math.round(ageMs / 1000)} s ago (at most ${Math.round(maxAgeMs / 1000)} s expected): is it running and can it reach the database?`,
          details,
        ),
  ]
}

async function ownershipChecks(
  ctx: RolloutChecksContext,
  range: { min: number; max: number },
  hostId: string,
  now: Date,
): Promise<PreflightCheck[]> {
  const overlaps = (min: Column, max: Column) => and(lte(min, range.max), gte(max, range.min))
  const locks = await ctx.db
    .select()
    .from(rolloutLocks)
    .where(
      and(
        inArray(rolloutLocks.state, ['active', 'releasing']),
        overlaps(rolloutLocks.bucketMin, rolloutLocks.bucketMax),
      ),
    )
  const mine = locks.filter(
    (lock) => lock.hostId === hostId && lock.bucketMin === range.min && lock.bucketMax === range.max,
  )
  const others = locks.filter((lock) => !mine.includes(lock))
  const lockDetail = (lock: (typeof locks)[number]) => ({
    id: Number(lock.id),
    bucket_min: lock.bucketMin,
    bucket_max: lock.bucketMax,
    host_id: lock.hostId,
    state: lock.state,
  })
  const lockCheck =
    others.length > 0
      ? fail(
          'no_overlapping_lock',
          'blocking',
          `${rangeText(range)} overlap ${others.length} rollout lock(s): ${others
            .map((lock) => `${lock.bucketMin}–${lock.bucketMax} on ${lock.hostId} (${lock.state})`)
            .join(', ')}; release them or pick a range outside them`,
          { locks: others.map(lockDetail) },
        )
      : mine.length > 0
        ? fail(
            'no_overlapping_lock',
            'warning',
            `${rangeText(range)} are already activated for ${hostId} (${mine[0]!.state})`,
            { locks: mine.map(lockDetail) },
          )
        : pass('no_overlapping_lock', 'blocking', `no rollout lock covers ${rangeText(range)}`, { locks: [] })

  // Live hosts (active, lease unexpired) whose row claims buckets of the range.
  const live = await ctx.db
    .select()
    .from(hosts)
    .where(and(eq(hosts.status, 'active'), gt(hosts.leaseExpiresAt, now), overlaps(hosts.bucketMin, hosts.bucketMax)))
  const hostDetail = (host: (typeof live)[number]) => ({
    host_id: host.hostId,
    bucket_min: host.bucketMin,
    bucket_max: host.bucketMax,
    heartbeat_at: host.heartbeatAt.toISOString(),
  })
  const pinned = live.filter((host) => host.pinned && host.hostId !== hostId)
  const dynamic = live.filter((host) => !host.pinned && host.rolloutMode === 'active' && host.hostId !== hostId)
  return [
    lockCheck,
    pinned.length > 0
      ? fail(
          'no_pinned_host',
          'blocking',
          `pinned host(s) ${pinned.map((h) => `${h.hostId} (${h.bucketMin}–${h.bucketMax})`).join(', ')} check buckets of ${rangeText(range)}: change their PINNED_BUCKET_MIN/MAX or pick another range`,
          { hosts: pinned.map(hostDetail) },
        )
      : pass('no_pinned_host', 'blocking', `no pinned host checks ${rangeText(range)}`, { hosts: [] }),
    dynamic.length > 0
      ? fail(
          'no_dynamic_owner',
          'blocking',
          `dynamic host(s) ${dynamic.map((h) => `${h.hostId} (${h.bucketMin}–${h.bucketMax})`).join(', ')} own buckets of ${rangeText(range)}: v2 already checks part of it; use ROLLOUT_MODE=standby or api-controlled on those hosts, or pick another range`,
          { hosts: dynamic.map(hostDetail) },
        )
      : pass('no_dynamic_owner', 'blocking', `no dynamic host owns ${rangeText(range)}`, { hosts: [] }),
  ]
}

async function veriflierChecks(ctx: RolloutChecksContext): Promise<PreflightCheck[]> {
  const verifliers = ctx.verifliers ?? []
  if (verifliers.length === 0) {
    const details = { configured: 0 }
    return [
      fail(
        'verifliers_reachable',
        'warning',
        'no verifliers are configured: outages will be confirmed Down after NUM_OF_CHECKS local failures, with no second opinion',
        details,
      ),
      pass('verifliers_protocol', 'blocking', 'no verifliers to ask', details),
      pass('verifliers_distinct', 'warning', 'no verifliers to ask', details),
      pass('verifliers_quorum', 'blocking', 'no verifliers: no quorum is needed', details),
    ]
  }
  const timeoutMs = ctx.veriflierTimeoutMs ?? (ctx.endpointDefaults?.timeoutMs ?? 10_000) + 5_000
  const probes = await probeVerifliers(verifliers, { timeoutMs, ca: ctx.ca })
  const list = probes.map((p) => ({
    id: p.id,
    region: p.region,
    reachable: p.reachable,
    compatible: p.compatible,
    rtt_ms: p.rttMs,
    problem: p.problem,
  }))
  const unreachable = probes.filter((p) => !p.reachable)
  const incompatible = probes.filter((p) => p.reachable && !p.compatible)
  const vantages = vantagesOf(verifliers)
  const shared = vantages.filter((group) => group.length > 1)
  const usable = vantagesOf(probes.filter((p) => p.compatible))
  const quorum = ctx.veriflierQuorum ?? Math.floor(verifliers.length / 2) + 1
  const quorumDetails = { quorum, vantages: vantages.length, usable_vantages: usable.length, verifliers: list }
  const describe = (items: typeof probes) => items.map((p) => `${p.id} (${p.problem})`).join('; ')
  return [
    unreachable.length > 0
      ? fail(
          'verifliers_reachable',
          'warning',
          `${unreachable.length} of ${probes.length} verifliers cannot be reached: ${describe(unreachable)}`,
          { verifliers: list },
        )
      : pass('verifliers_reachable', 'warning', `all ${probes.length} verifliers answered`, { verifliers: list }),
    incompatible.length > 0
      ? fail(
          'verifliers_protocol',
          'blocking',
          `${incompatible.length} veriflier(s) answered but not with a check result this monitor understands: ${describe(incompatible)}; check their token and upgrade them to this version`,
          { verifliers: list },
        )
      : pass('verifliers_protocol', 'blocking', 'every veriflier that answered speaks this protocol', {
          verifliers: list,
        }),
    shared.length > 0
      ? fail(
          'verifliers_distinct',
          'warning',
          `verifliers ${shared.map((group) => group.join(' and ')).join('; ')} share an id or a region: each group counts as one vantage toward the quorum`,
          { vantages },
        )
      : pass('verifliers_distinct', 'warning', `${vantages.length} distinct vantages`, { vantages }),
    usable.length >= quorum
      ? pass(
          'verifliers_quorum',
          'blocking',
          `${usable.length} distinct vantages answered; the quorum is ${quorum}`,
          quorumDetails,
        )
      : fail(
          'verifliers_quorum',
          'blocking',
          `only ${usable.length} distinct vantage(s) answered but the quorum is ${quorum}: no outage in the range could be confirmed; fix the verifliers above or lower VERIFLIER_QUORUM`,
          quorumDetails,
        ),
  ]
}

async function auditCheck(ctx: RolloutChecksContext, range: { min: number; max: number }): Promise<PreflightCheck> {
  const audit = await auditLegacySites({
    ctx: { db: ctx.db },
    bucketMin: range.min,
    bucketMax: range.max,
    bucketTotal: ctx.bucketTotal,
  })
  const findings = audit.findings.map((f) => ({
    code: f.code,
    severity: f.severity,
    count: f.count,
    message: f.message,
  }))
  const details = { active_rows: audit.activeRows, findings }
  const blocking = findings.filter((f) => f.severity === 'blocking')
  if (blocking.length > 0) {
    return fail(
      'audit_clean',
      'blocking',
      `the v1 audit of ${rangeText(range)} has blocking findings: ${blocking.map((f) => `${f.code} (${f.count})`).join(', ')}; see \`jetmon2 legacy audit --bucket-min ${range.min} --bucket-max ${range.max}\``,
      details,
    )
  }
  return pass(
    'audit_clean',
    'blocking',
    findings.length > 0
      ? `no blocking finding in ${rangeText(range)} (${audit.activeRows} active rows; warnings: ${findings.map((f) => `${f.code} (${f.count})`).join(', ')})`
      : `no finding in ${rangeText(range)} (${audit.activeRows} active rows)`,
    details,
  )
}

/**
 * Runs every preflight check of moving buckets `bucketMin`–`bucketMax` to the api-controlled host
 * `hostId`: database migrated; the host registered in `api-controlled` mode with a fresh heartbeat;
 * no other rollout lock, pinned host or dynamic host on the range; verifliers reachable, speaking
 * this protocol, distinct vantages and a reachable quorum; no blocking v1 audit finding; the legacy
 * projection enabled. Changes nothing but its job row (step `preflight`, outcome `blocked` when a
 * blocking check fails, else `applied`).
 *
 * @throws InvalidParametersError for a range outside `BUCKET_TOTAL` or upside down, or an empty host id;
 *   SessionNotFoundError / SessionClosedError for a `sessionId` that is unknown or closed.
 */
export async function preflight(ctx: RolloutChecksContext, input: PreflightInput): Promise<PreflightResult> {
  const startedAt = nowOf(ctx)
  const range = requireRange(input.bucketMin, input.bucketMax, ctx.bucketTotal)
  if (typeof input.hostId !== 'string' || input.hostId.trim() === '' || input.hostId.length > 255) {
    refuse('host_id', 'expected the HOST_ID of a monitor host (1 to 255 characters)')
  }
  const sessionId = await requireOpenSession(ctx, input.sessionId)
  const [migrated, hostState, ownership, verifliers, audit] = await Promise.all([
    databaseMigrated(ctx),
    hostChecks(ctx, input.hostId, startedAt),
    ownershipChecks(ctx, range, input.hostId, startedAt),
    veriflierChecks(ctx),
    auditCheck(ctx, range),
  ])
  const projection = ctx.projectionEnabled
    ? pass(
        'projection_enabled',
        'blocking',
        'LEGACY_STATUS_PROJECTION_ENABLE is on: v1 readers keep seeing site_status',
      )
    : fail(
        'projection_enabled',
        'blocking',
        'LEGACY_STATUS_PROJECTION_ENABLE is off: site_status would stop changing for the range once v1 stops; turn it on for the monitor hosts and this API',
      )
  const checks = [migrated, ...hostState, ...ownership, ...verifliers, audit, projection]
  const ok = checks.every((check) => check.ok || check.severity !== 'blocking')
  const jobId = await recordJob(ctx, {
    sessionId,
    step: 'preflight',
    dryRun: false,
    parameters: { bucket_min: range.min, bucket_max: range.max, host_id: input.hostId },
    outcome: ok ? 'applied' : 'blocked',
    result: { ok, checks },
    startedAt,
  })
  return { jobId, ok, checks }
}
