/**
 * What an event's metadata says, reduced to an allow-list of facts a person needs: the failing
 * check (URL, HTTP status, error, detail, timings, TLS and DNS facts), the veriflier votes and the
 * quorum. Nothing else in the metadata is ever rendered, so a field added later (or a header
 * someone logged by mistake) cannot leak through the dashboard.
 */
import { errorName } from '@jetmon/checker'
import { formatMs } from '../shared/format.js'

type Json = Record<string, unknown>

const asObject = (value: unknown): Json | null =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null
const asString = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null)
const asNumber = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null)

const REDACTED = 'jetmon-redacted'

/** Query parameters whose values are credentials often enough that they are never shown. */
const SECRET_PARAM = /(token|key|secret|pass|auth|sig|session|credential)/i

/**
 * A URL as it may be shown: user name and password removed, values of credential-like query
 * parameters replaced by `…`. Text that is not a URL comes back unchanged.
 */
export function redactUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return url
  }
  let changed = false
  if (parsed.username || parsed.password) {
    parsed.username = ''
    parsed.password = ''
    changed = true
  }
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) {
      parsed.searchParams.set(name, REDACTED)
      changed = true
    }
  }
  return changed ? parsed.toString().replaceAll(REDACTED, '…') : url
}

/** Credentials that may appear inside free text (error details, last errors). */
export function redactText(text: string): string {
  return text
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 …')
    .replace(/\bjm_[A-Za-z0-9_-]{8,}/g, 'jm_…')
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>]+/gi, (url) => redactUrl(url))
}

/** One veriflier's answer in a confirmation round. */
export interface Vote {
  veriflier: string
  region: string | null
  vote: 'up' | 'down' | 'error'
  httpCode: number | null
  errorCode: number | null
  rttMs: number | null
}

/** The facts of one event or transition, ready to render. */
export interface Evidence {
  /** One line: `HTTP 503 · confirmed by 2 of 3 verifliers`. Empty when there is nothing to say. */
  summary: string
  /** Label and value pairs, in reading order. */
  facts: [string, string][]
  votes: Vote[]
  quorum: number | null
  /** `verifliers` or `local_retries` when a Down was confirmed. */
  confirmedBy: string | null
}

function votesOf(raw: unknown): Vote[] {
  if (!Array.isArray(raw)) return []
  const votes: Vote[] = []
  for (const item of raw) {
    const vote = asObject(item)
    if (!vote) continue
    const named = asString(vote.vote)
    const success = vote.success === true
    votes.push({
      veriflier: asString(vote.veriflier) ?? '?',
      region: asString(vote.region),
      vote: named === 'up' || named === 'down' || named === 'error' ? named : success ? 'up' : 'down',
      httpCode: asNumber(vote.http_code),
      errorCode: asNumber(vote.error_code),
      rttMs: asNumber(vote.rtt_ms),
    })
  }
  return votes
}

function checkSummary(check: Json): string {
  const code = asNumber(check.error_code)
  const error = asString(check.error) ?? (code === null ? null : errorName(code))
  const status = asNumber(check.http_code)
  const timings = asObject(check.timings)
  switch (error) {
    case null:
      return status === null ? 'check passed' : `HTTP ${status}`
    case 'http_status':
      return status === null ? 'HTTP error status' : `HTTP ${status}`
    case 'timeout': {
      const phase = asString(check.timeout_phase)
      const total = asNumber(timings?.totalMs)
      return `timeout${phase ? ` in ${phase}` : ''}${total === null ? '' : ` after ${formatMs(total)}`}`
    }
    case 'dns':
      return `DNS ${asString(asObject(check.dns)?.failureClass) ?? 'failure'}`
    case 'tls':
      return `TLS ${asString(asObject(check.tls)?.failure)?.replace(/_/g, ' ') ?? 'failure'}`
    case 'tls_expired':
      return 'certificate expired'
    case 'partial_response':
      return 'body cut short (partial response)'
    case 'keyword': {
      const keyword = asObject(check.keyword)
      return asString(keyword?.rule) === 'forbidden' ? 'forbidden text found' : 'required text missing'
    }
    default:
      return error.replace(/_/g, ' ')
  }
}

function checkFacts(check: Json): [string, string][] {
  const facts: [string, string][] = []
  const url = asString(check.url)
  const finalUrl = asString(check.final_url)
  if (url) facts.push(['URL', `${asString(check.method) ?? 'GET'} ${redactUrl(url)}`])
  if (finalUrl && finalUrl !== url) facts.push(['Final URL', redactUrl(finalUrl)])
  const status = asNumber(check.http_code)
  if (status !== null) facts.push(['HTTP status', String(status)])
  const code = asNumber(check.error_code)
  const error = asString(check.error) ?? (code === null ? null : errorName(code))
  if (error) facts.push(['Error', `${error}${code === null ? '' : ` (${code})`}`])
  const detail = asString(check.detail)
  if (detail) facts.push(['Detail', redactText(detail).slice(0, 512)])
  const timings = asObject(check.timings)
  if (timings) {
    const parts = (
      [
        ['DNS', 'dnsMs'],
        ['connect', 'connectMs'],
        ['TLS', 'tlsMs'],
        ['TTFB', 'ttfbMs'],
        ['total', 'totalMs'],
      ] as const
    )
      .map(([label, key]) => [label, asNumber(timings[key])] as const)
      .filter(([, ms]) => ms !== null)
      .map(([label, ms]) => `${label} ${formatMs(ms)}`)
    if (parts.length) facts.push(['Timings', parts.join(' · ')])
  }
  const redirects = Array.isArray(check.redirects) ? check.redirects : []
  if (redirects.length) {
    facts.push([
      'Redirects',
      redirects
        .map((hop) => asObject(hop))
        .filter((hop): hop is Json => hop !== null)
        .map((hop) => `${asNumber(hop.status) ?? '?'} → ${redactUrl(asString(hop.url) ?? '?')}`)
        .join(', '),
    ])
  }
  const tls = asObject(check.tls)
  if (tls) {
    const parts = [
      asString(tls.protocol),
      asString(tls.failure)?.replace(/_/g, ' '),
      asString(tls.validTo) ? `valid to ${asString(tls.validTo)}` : null,
      asString(tls.issuer) ? `issuer ${asString(tls.issuer)}` : null,
    ].filter((part): part is string => part !== null && part !== undefined)
    if (parts.length) facts.push(['TLS', parts.join(' · ')])
  }
  const dns = asObject(check.dns)
  if (dns) {
    const addresses = Array.isArray(dns.addresses) ? dns.addresses.filter((a) => typeof a === 'string') : []
    const parts = [asString(dns.failureClass), addresses.length ? addresses.slice(0, 4).join(', ') : null].filter(
      (part): part is string => part !== null,
    )
    if (parts.length) facts.push(['DNS', parts.join(' · ')])
  }
  const body = asObject(check.body)
  if (body?.truncated === true) {
    facts.push([
      'Body',
      `truncated: ${asNumber(body.bytesRead) ?? '?'} of ${asNumber(body.contentLength) ?? '?'} bytes announced`,
    ])
  }
  const remote = asString(check.remote_address)
  if (remote) facts.push(['Remote address', remote])
  return facts
}

/**
 * What an objective's alert says: its name, then the firing rules (`slo_burn`) or the budget left
 * (`slo_budget`), from the metadata the evaluator writes.
 */
function objectiveSummary(checkType: string, meta: Record<string, unknown>): string {
  const name = `“${asString(meta.objective_name) ?? 'objective'}”`
  const rates = asObject(meta.burn_rates) ?? {}
  const rate = (lookback: unknown) => {
    const value = asNumber(rates[String(lookback)])
    return value === null ? '—' : `${value.toFixed(1)}×`
  }
  if (checkType === 'slo_burn') {
    const firing = (Array.isArray(meta.firing) ? meta.firing : [])
      .map((rule) => asObject(rule))
      .filter((rule): rule is Record<string, unknown> => rule !== null)
      .map(
        (rule) =>
          `${asString(rule.severity) ?? 'rule'} ${asString(rule.long) ?? '?'}/${asString(rule.short) ?? '?'} above ${
            asNumber(rule.burn_rate) ?? '?'
          }× (${rate(rule.long)} over ${asString(rule.long) ?? '?'})`,
      )
    return firing.length ? `${name} burns its error budget too fast: ${firing.join(', ')}` : `${name}: no rule fires`
  }
  const left = asNumber(meta.budget_remaining_percent)
  const percent = left === null ? '?' : `${left.toFixed(1)} %`
  return meta.exhausted === true
    ? `${name}: error budget exhausted (${percent})`
    : `${name}: ${percent} of the error budget left`
}

/**
 * The evidence of an event (its metadata) or of one transition (its metadata), for a check type.
 * Unknown shapes give an empty summary rather than an error: metadata is written by other code.
 */
export function evidenceOf(checkType: string, metadata: unknown): Evidence {
  const meta = asObject(metadata) ?? {}
  const confirmation = asObject(meta.confirmation)
  const votes = votesOf(meta.votes ?? confirmation?.votes)
  const quorum = asNumber(meta.quorum ?? confirmation?.quorum)
  const confirmedBy = asString(confirmation?.confirmed_by ?? meta.confirmed_by)
  const facts: [string, string][] = []
  let summary = ''

  const check = asObject(meta.check)
  if (check) {
    summary = checkSummary(check)
    facts.push(...checkFacts(check))
  } else if (checkType === 'tls_expiry' && (meta.days_until_expiry !== undefined || meta.valid_to !== undefined)) {
    const days = asNumber(meta.days_until_expiry)
    const validTo = asString(meta.valid_to)
    summary = days === null ? 'certificate expiring' : `certificate expires in ${days} d`
    if (validTo) facts.push(['Valid to', validTo])
    const issuer = asString(meta.issuer)
    if (issuer) facts.push(['Issuer', issuer])
  } else if (checkType === 'tls_deprecated' && meta.tls_version !== undefined) {
    summary = `${asString(meta.tls_version) ?? 'old TLS'} negotiated`
    const cipher = asString(meta.cipher)
    if (cipher) facts.push(['Cipher', cipher])
  } else if (checkType === 'latency' && meta.total_ms !== undefined) {
    const total = asNumber(meta.total_ms)
    const threshold = asNumber(meta.threshold_ms)
    summary =
      threshold === null ? `${formatMs(total)} response` : `${formatMs(total)}, slower than ${formatMs(threshold)}`
    const consecutive = asNumber(meta.consecutive)
    if (consecutive !== null) facts.push(['Consecutive slow checks', String(consecutive)])
  } else if ((checkType === 'slo_burn' || checkType === 'slo_budget') && meta.objective_name !== undefined) {
    summary = objectiveSummary(checkType, meta)
    const sli = asString(meta.sli)
    const target = asNumber(meta.target)
    const window = asString(meta.window)
    if (sli && target !== null && window) facts.push(['Objective', `${sli} ${target} % over ${window}`])
    const sliPercent = asNumber(meta.sli_percent)
    if (sliPercent !== null) facts.push(['SLI', `${sliPercent.toFixed(3)} %`])
  } else {
    const error = asString(meta.error)
    const detail = asString(meta.detail)
    if (error) summary = error.replace(/_/g, ' ')
    if (detail) facts.push(['Detail', redactText(detail).slice(0, 512)])
  }

  if (votes.length) {
    const down = votes.filter((vote) => vote.vote === 'down').length
    const verdict =
      confirmedBy === 'verifliers' || (quorum !== null && down >= quorum)
        ? `confirmed by ${down} of ${votes.length} verifliers`
        : `${down} of ${votes.length} verifliers saw it down`
    summary = summary ? `${summary} · ${verdict}` : verdict
  } else if (confirmedBy === 'local_retries') {
    summary = summary ? `${summary} · confirmed by local retries` : 'confirmed by local retries'
  }
  return { summary, facts, votes, quorum, confirmedBy }
}
