import { endpointConfig, monitorSites, siteTenants } from '@jetmon/db'
import {
  DEFAULT_DETECTION_PROFILE,
  DEFAULT_REQUEST_METHOD,
  type DetectionProfile,
  type RedirectPolicy,
  type RequestMethod,
} from '@jetmon/vocabulary'
import { sql } from 'drizzle-orm'

/**
 * What the monitor needs to schedule and run one endpoint's check: `jetpack_monitor_sites` with its
 * `jetmon_endpoint_config` sidecar, NULLs replaced by the defaults (docs/architecture.md). Frozen.
 */
export interface EndpointConfig {
  endpointId: bigint
  blogId: bigint
  bucketNo: number
  url: string
  /** `check_interval_sec` × 1000 if set (> 0), else the legacy `check_interval` minutes × 60 000 (at least 1 minute); kept within 1 s – 2^32 ms. */
  intervalMs: number
  /** Default `CHECK_TIMEOUT_MS` (10 000). */
  timeoutMs: number
  /** Default `DEFAULT_REQUEST_METHOD` (`GET`). */
  method: RequestMethod
  /** How much of the response the verdict uses; default `DEFAULT_DETECTION_PROFILE` (`full`). */
  profile: DetectionProfile
  /** Default `follow`. */
  redirectPolicy: RedirectPolicy
  /** Default 10. */
  maxRedirects: number
  /** Required text; null when none (NULL or empty). */
  keyword: string | null
  /** Default none (`[]`). */
  forbiddenKeywords: readonly string[]
  /** Default true. */
  keywordCaseSensitive: boolean
  /** Default none (`{}`). Values can be secrets: never log them. */
  customHeaders: Readonly<Record<string, string>>
  /** Null: no latency threshold. */
  latencyThresholdMs: number | null
  /** Default `TLS_EXPIRY_WARN_DAYS` (30). */
  tlsExpiryWarnDays: number
  /** Default `ALERT_COOLDOWN_MINUTES` (30). */
  alertCooldownMinutes: number
  /**
   * The site belongs to a gateway tenant (it has a `jetmon_site_tenants` row): its URLs were chosen
   * outside the operator's network, so its checks may only reach public addresses.
   */
  tenantOwned: boolean
}

/** The defaults that come from the monitor's configuration rather than from the data model. */
export interface EndpointDefaults {
  /** `CHECK_TIMEOUT_MS`. */
  timeoutMs: number
  /** `TLS_EXPIRY_WARN_DAYS`. */
  tlsExpiryWarnDays: number
  /** `ALERT_COOLDOWN_MINUTES`. */
  alertCooldownMinutes: number
  /** `DEFAULT_REQUEST_METHOD`, for endpoints whose `request_method` is NULL (default `GET`). */
  requestMethod?: RequestMethod | undefined
  /** `DEFAULT_DETECTION_PROFILE`, for endpoints whose `detection_profile` is NULL (default `full`). */
  detectionProfile?: DetectionProfile | undefined
}

export const DEFAULT_ENDPOINT_DEFAULTS: Readonly<EndpointDefaults> = Object.freeze({
  timeoutMs: 10_000,
  tlsExpiryWarnDays: 30,
  alertCooldownMinutes: 30,
  requestMethod: DEFAULT_REQUEST_METHOD,
  detectionProfile: DEFAULT_DETECTION_PROFILE,
})

const DEFAULT_MAX_REDIRECTS = 10
const MIN_INTERVAL_MS = 1_000
const MAX_INTERVAL_MS = 2 ** 32
const NO_KEYWORDS: readonly string[] = Object.freeze([])
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({})

/** The columns read for one endpoint (sites LEFT JOIN config). JSON columns come raw, parsed here. */
export const endpointColumns = {
  endpointId: monitorSites.endpointId,
  blogId: monitorSites.blogId,
  bucketNo: monitorSites.bucketNo,
  url: monitorSites.monitorUrl,
  active: monitorSites.monitorActive,
  checkInterval: monitorSites.checkInterval,
  checkIntervalSec: endpointConfig.checkIntervalSec,
  timeoutMs: endpointConfig.timeoutMs,
  requestMethod: endpointConfig.requestMethod,
  detectionProfile: endpointConfig.detectionProfile,
  redirectPolicy: endpointConfig.redirectPolicy,
  maxRedirects: endpointConfig.maxRedirects,
  checkKeyword: endpointConfig.checkKeyword,
  // Raw text, so that one malformed JSON value costs one endpoint its default, not the whole page.
  forbiddenKeywords: sql<unknown>`${endpointConfig.forbiddenKeywords}`,
  keywordCaseSensitive: endpointConfig.keywordCaseSensitive,
  customHeaders: sql<unknown>`${endpointConfig.customHeaders}`,
  latencyThresholdMs: endpointConfig.latencyThresholdMs,
  tlsExpiryWarnDays: endpointConfig.tlsExpiryWarnDays,
  alertCooldownMinutes: endpointConfig.alertCooldownMinutes,
  // One probe of jetmon_site_tenants' blog_id index per row.
  tenantOwned: sql<unknown>`EXISTS (SELECT 1 FROM ${siteTenants} WHERE ${siteTenants.blogId} = ${monitorSites.blogId})`,
}

/** One row as the endpoint query selects it, before {@link toEndpointConfig} applies the defaults. */
export interface EndpointRow {
  endpointId: bigint
  blogId: bigint
  bucketNo: number
  url: string
  active: number
  checkInterval: number
  checkIntervalSec: number | null
  timeoutMs: number | null
  requestMethod: RequestMethod | null
  detectionProfile: DetectionProfile | null
  redirectPolicy: RedirectPolicy | null
  maxRedirects: number | null
  checkKeyword: string | null
  forbiddenKeywords: unknown
  keywordCaseSensitive: number | null
  customHeaders: unknown
  latencyThresholdMs: number | null
  tlsExpiryWarnDays: number | null
  alertCooldownMinutes: number | null
  /** 0/1 (a number or a decimal string, as the driver gives it). */
  tenantOwned: unknown
}

/** A field whose stored value was unusable and got its default instead. */
export type RowProblem = 'forbidden_keywords' | 'custom_headers'

/** The row with the documented defaults in place of NULLs (and of values that cannot be used). */
export function toEndpointConfig(
  row: EndpointRow,
  defaults: EndpointDefaults,
  problems?: RowProblem[],
): EndpointConfig {
  const forbidden = parseForbidden(row.forbiddenKeywords)
  const headers = parseHeaders(row.customHeaders)
  if (forbidden === undefined) problems?.push('forbidden_keywords')
  if (headers === undefined) problems?.push('custom_headers')
  return Object.freeze({
    endpointId: row.endpointId,
    blogId: row.blogId,
    bucketNo: row.bucketNo,
    url: row.url,
    intervalMs: intervalOf(row),
    timeoutMs: row.timeoutMs !== null && row.timeoutMs > 0 ? row.timeoutMs : defaults.timeoutMs,
    method: row.requestMethod ?? defaults.requestMethod ?? 'GET',
    profile: row.detectionProfile ?? defaults.detectionProfile ?? 'full',
    redirectPolicy: row.redirectPolicy ?? 'follow',
    maxRedirects: row.maxRedirects ?? DEFAULT_MAX_REDIRECTS,
    keyword: row.checkKeyword ? row.checkKeyword : null,
    forbiddenKeywords: forbidden ?? NO_KEYWORDS,
    keywordCaseSensitive: row.keywordCaseSensitive === null ? true : row.keywordCaseSensitive !== 0,
    customHeaders: headers ?? NO_HEADERS,
    latencyThresholdMs: row.latencyThresholdMs !== null && row.latencyThresholdMs > 0 ? row.latencyThresholdMs : null,
    tlsExpiryWarnDays: row.tlsExpiryWarnDays ?? defaults.tlsExpiryWarnDays,
    alertCooldownMinutes: row.alertCooldownMinutes ?? defaults.alertCooldownMinutes,
    tenantOwned: Number(row.tenantOwned) === 1,
  })
}

function intervalOf(row: EndpointRow): number {
  const ms =
    row.checkIntervalSec !== null && row.checkIntervalSec > 0
      ? row.checkIntervalSec * 1000
      : Math.max(1, row.checkInterval) * 60_000
  return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, ms))
}

/** JSON text (MariaDB), an already parsed value (MySQL 8) or NULL → the array; undefined when unusable. */
function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value
  try {
    return JSON.parse(value)
  } catch {
    return undefined
  }
}

function parseForbidden(raw: unknown): readonly string[] | null | undefined {
  if (raw === null) return null
  const value = parseJson(raw)
  if (value === null) return null
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return undefined
  const words = value.filter((item) => item.length > 0)
  return words.length === 0 ? null : Object.freeze(words)
}

function parseHeaders(raw: unknown): Readonly<Record<string, string>> | null | undefined {
  if (raw === null) return null
  const value = parseJson(raw)
  if (value === null) return null
  if (typeof value !== 'object' || Array.isArray(value) || value === undefined) return undefined
  const entries = Object.entries(value as Record<string, unknown>)
  if (!entries.every(([, v]) => typeof v === 'string')) return undefined
  return entries.length === 0 ? null : Object.freeze(Object.fromEntries(entries) as Record<string, string>)
}

/** The settings of a check, apart from which endpoint it is, where and how often. */
export type CheckSettings = Omit<EndpointConfig, 'endpointId' | 'blogId' | 'bucketNo' | 'url' | 'intervalMs'>

/** Field-by-field equality of two configurations (arrays and header maps by content). */
export function sameConfig(a: EndpointConfig, b: EndpointConfig): boolean {
  return (
    a.endpointId === b.endpointId &&
    a.blogId === b.blogId &&
    a.bucketNo === b.bucketNo &&
    a.url === b.url &&
    a.intervalMs === b.intervalMs &&
    sameCheckSettings(a, b)
  )
}

/** Field-by-field equality of two configurations' check settings (see {@link CheckSettings}). */
export function sameCheckSettings(a: CheckSettings, b: CheckSettings): boolean {
  return (
    a.timeoutMs === b.timeoutMs &&
    a.method === b.method &&
    a.profile === b.profile &&
    a.redirectPolicy === b.redirectPolicy &&
    a.maxRedirects === b.maxRedirects &&
    a.keyword === b.keyword &&
    a.keywordCaseSensitive === b.keywordCaseSensitive &&
    a.latencyThresholdMs === b.latencyThresholdMs &&
    a.tlsExpiryWarnDays === b.tlsExpiryWarnDays &&
    a.alertCooldownMinutes === b.alertCooldownMinutes &&
    a.tenantOwned === b.tenantOwned &&
    sameList(a.forbiddenKeywords, b.forbiddenKeywords) &&
    sameHeaders(a.customHeaders, b.customHeaders)
  )
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a === b || (a.length === b.length && a.every((item, i) => item === b[i]))
}

function sameHeaders(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key])
}
