/** The site page (`/sites/<blog_id>`): state, figures, response-time chart, uptime bars, regions, endpoints, timeline. */
import { errorName } from '@jetmon/checker'
import { LOCAL_VANTAGE } from '@jetmon/history'
import { RESOLVED, SEVERITY_NAMES } from '@jetmon/vocabulary'
import { html, jsonScript, type SafeHtml } from '../_html.js'
import { stateClass } from '../_states.js'
import type { Evidence } from '../data/_evidence.js'
import { redactUrl } from '../data/_evidence.js'
import type { CellState, UptimeCell } from '../data/_uptime-cells.js'
import { FLEET_DEFAULT_LABEL, type PolicyLabel } from '../data/check-policy.js'
import { CHART_WINDOWS, type ChartWindow, type SiteData, type TimelineEvent } from '../data/site.js'
import { formatDuration, formatMs, formatPercent, formatTime } from '../shared/format.js'
import { ago, at, badge, since } from './_layout.js'
import { objectivesRegion } from './objectives.js'

function siteSince(data: SiteData): Date | null {
  const detail = data.detail
  const worst = detail.active_events[0]
  if (worst && detail.current_state !== 'Maintenance' && detail.current_state !== 'Paused') {
    return new Date(worst.started_at)
  }
  if (detail.current_state === 'Maintenance' && detail.maintenance) return new Date(detail.maintenance.starts_at)
  if (detail.current_state === 'Up') {
    const ended = data.timeline
      .map((item) => item.event.endedAt)
      .filter((d): d is Date => d !== null)
      .sort((a, b) => b.getTime() - a.getTime())[0]
    return ended ?? null
  }
  return null
}

/** State, URL and the facts an operator looks for first. */
export function headRegion(data: SiteData, nowMs: number): SafeHtml {
  const detail = data.detail
  const state = detail.current_state
  const sinceAt = siteSince(data)
  const lastChecked = detail.last_checked_at ? new Date(detail.last_checked_at) : null
  const window = detail.maintenance
  return html`<div class="site-head ${stateClass(state)}">
  ${badge(state, 'badge-lg')}
  <div class="site-title">
    <h1>${redactUrl(detail.monitor_url)}</h1>
    <p class="meta">blog ${String(detail.blog_id)} · ${detail.endpoint_count} endpoint${detail.endpoint_count === 1 ? '' : 's'}${
      detail.active_endpoint_count < detail.endpoint_count ? ` (${detail.active_endpoint_count} active)` : ''
    }${sinceAt ? html` · ${state} for ${since(sinceAt, nowMs)}` : ''} · last check ${ago(lastChecked, nowMs)}</p>
    ${
      detail.confirmation === 'unavailable'
        ? html`<p class="flag">Confirmation unavailable: no quorum of verifliers answered the last round, so the site stays Seems Down (not downtime) and is asked again.</p>`
        : ''
    }
    ${
      window
        ? html`<p class="flag flag-info">Maintenance window until ${at(new Date(window.ends_at))}${
            window.reason ? html` — ${window.reason}` : ''
          }. Failures open no incident meanwhile.</p>`
        : ''
    }
  </div>
</div>`
}

/** Uptime, incidents, MTTR for 24 h, 7 d, 30 d, and response time over 24 h. */
export function figuresRegion(data: SiteData): SafeHtml {
  return html`${data.figures.map(({ label, figures }) => {
    const sub = [
      `${figures.incidentCount} incident${figures.incidentCount === 1 ? '' : 's'}`,
      figures.mttrMs === null ? null : `MTTR ${formatDuration(figures.mttrMs)}`,
      figures.downMs > 0 ? `down ${formatDuration(figures.downMs)}` : null,
    ].filter(Boolean)
    const tone =
      figures.uptimePercent === null
        ? ''
        : figures.uptimePercent >= 99.9
          ? ' good'
          : figures.uptimePercent >= 99
            ? ' fair'
            : ' poor'
    return html`<div class="figure${tone}" data-figure="${label}">
      <span class="figure-label">Uptime ${label}</span>
      <span class="figure-value num">${formatPercent(figures.uptimePercent)}</span>
      <span class="figure-sub">${sub.join(' · ')}</span></div>`
  })}
  <div class="figure" data-figure="latency">
    <span class="figure-label">Response 24 h</span>
    <span class="figure-value num">${formatMs(data.latency.p50Ms)}</span>
    <span class="figure-sub">p50 · p95 ${formatMs(data.latency.p95Ms)} · ${data.latency.samples} checks</span></div>`
}

function cellTitle(cell: UptimeCell, hourly: boolean): string {
  const start = formatTime(cell.startMs).slice(0, hourly ? 16 : 10)
  const end = hourly ? formatTime(cell.endMs).slice(11, 16) : ''
  const parts = Object.entries(cell.durations)
    .filter(([, ms]) => ms > 0)
    .map(([state, ms]) => `${state} ${formatDuration(ms)}`)
  return `${start}${end ? `–${end}` : ''} UTC · ${parts.length ? parts.join(', ') : cell.state} · ${cell.checks} checks`
}

function bar(cells: UptimeCell[], hourly: boolean, label: string, left: string): SafeHtml {
  return html`<div class="ubar-block">
  <div class="ubar-head"><h3>${label}</h3></div>
  <div class="ubar ${hourly ? 'ubar-hourly' : 'ubar-daily'}" role="img" aria-label="${label}: each cell coloured by the worst state in it">${cells.map(
    (cell) => html`<span class="cell ${stateClass(cell.state)}" title="${cellTitle(cell, hourly)}"></span>`,
  )}</div>
  <div class="ubar-axis"><span>${left}</span><span>now</span></div>
</div>`
}

/** The uptime bars: 48 hours by hour, 30 days by day. */
export function barsRegion(data: SiteData): SafeHtml {
  const legend: CellState[] = [...SEVERITY_NAMES, 'Maintenance', 'No data']
  return html`${bar(data.hourly, true, 'Last 48 hours, by hour', '48 h ago')}
${bar(data.daily, false, 'Last 30 days, by day', '30 d ago')}
<ul class="legend-list">${legend.map((state) => html`<li><span class="swatch ${stateClass(state)}"></span>${state}</li>`)}</ul>`
}

/** Each vantage that checked the site over the last 24 h: this monitor (`local`) and every veriflier. */
export function regionsRegion(data: SiteData, nowMs: number): SafeHtml {
  if (data.regions.length === 0) return html`<p class="empty calm">No checks recorded in the last 24 hours.</p>`
  return html`<div class="table-wrap"><table class="table regions">
<thead><tr><th>Vantage</th><th class="num">Checks</th><th class="num">Failures</th><th>Last check</th><th class="num">p50</th><th class="num">p95</th></tr></thead>
<tbody>${data.regions.map(
    (region) => html`<tr data-vantage="${region.vantage}"><td>${
      region.vantage === LOCAL_VANTAGE
        ? html`local <span class="sub">this monitor’s scheduled checks</span>`
        : html`<span class="mono">${region.vantage}</span><span class="sub">veriflier, in confirmation rounds</span>`
    }</td>
  <td class="num">${region.checks}</td>
  <td class="num${region.failures > 0 ? ' warn' : ''}">${region.failures}</td>
  <td>${ago(region.lastCheckedAt, nowMs)}</td>
  <td class="num">${formatMs(region.p50Ms)}</td>
  <td class="num">${formatMs(region.p95Ms)}</td></tr>`,
  )}</tbody>
</table></div>`
}

function votesTable(evidence: Evidence): SafeHtml {
  if (evidence.votes.length === 0) return html``
  return html`<table class="table votes">
<thead><tr><th>Veriflier</th><th>Region</th><th>Vote</th><th class="num">HTTP</th><th>Error</th><th class="num">RTT</th></tr></thead>
<tbody>${evidence.votes.map(
    (vote) => html`<tr><td>${vote.veriflier}</td><td>${vote.region ?? '—'}</td>
  <td><span class="vote vote-${vote.vote}">${vote.vote}</span></td><td class="num">${vote.httpCode ?? '—'}</td>
  <td>${vote.errorCode ? (errorName(vote.errorCode) ?? vote.errorCode) : '—'}</td><td class="num">${formatMs(vote.rttMs)}</td></tr>`,
  )}</tbody>
</table>${evidence.quorum === null ? '' : html`<p class="sub">Quorum ${evidence.quorum}</p>`}`
}

function facts(evidence: Evidence): SafeHtml {
  if (evidence.facts.length === 0) return html``
  return html`<dl class="facts">${evidence.facts.map(([label, value]) => html`<dt>${label}</dt><dd>${value}</dd>`)}</dl>`
}

function transitionLabel(before: string | null, after: string | null): string {
  if (before === null) return `opened ${after ?? ''}`.trim()
  if (after === RESOLVED) return `${before} → resolved`
  return `${before} → ${after ?? '?'}`
}

function eventEntry(item: TimelineEvent, nowMs: number, expanded: boolean, unavailable: boolean): SafeHtml {
  const event = item.event
  const open = event.endedAt === null
  const duration = (event.endedAt?.getTime() ?? nowMs) - event.startedAt.getTime()
  return html`<li class="tl-event ${stateClass(event.state)}${open ? ' open' : ''}" id="event-${event.id.toString()}">
  <div class="tl-head">
    ${badge(event.state)}
    <span class="tl-type">${event.checkType}${event.discriminator ? html` <span class="sub">${event.discriminator}</span>` : ''}</span>
    <span class="tl-when">${at(event.startedAt)}</span>
    <span class="tl-duration num">${
      open ? html`open for ${since(event.startedAt, nowMs)}` : html`lasted ${formatDuration(duration)}`
    }</span>
    ${open ? html`<span class="tag tag-open">open</span>` : html`<span class="tag">${event.resolutionReason ?? 'closed'}</span>`}
  </div>
  ${item.endpointUrl ? html`<div class="tl-endpoint">${item.endpointUrl}</div>` : ''}
  ${item.evidence.summary ? html`<p class="tl-summary">${item.evidence.summary}</p>` : ''}
  ${
    unavailable
      ? html`<p class="flag">Confirmation unavailable: no quorum of verifliers answered the last round.</p>`
      : ''
  }
  <details${expanded ? html` open` : ''}>
    <summary>Evidence and ${item.transitions.length} transition${item.transitions.length === 1 ? '' : 's'}</summary>
    ${facts(item.evidence)}
    ${item.transitions.some(({ evidence }) => evidence.votes.length > 0) ? '' : votesTable(item.evidence)}
    <ol class="transitions">${item.transitions.map(
      ({ transition, evidence }) => html`<li class="tr">
      <div class="tr-line"><time datetime="${transition.changedAt.toISOString()}">${formatTime(transition.changedAt.getTime())}</time>
        <span class="tr-change">${transitionLabel(transition.stateBefore, transition.stateAfter)}</span>
        <span class="tr-reason">${transition.reason}</span>
        <span class="tr-source">${transition.source}</span></div>
      ${evidence.summary ? html`<div class="tr-evidence">${evidence.summary}</div>` : ''}
      ${evidence.votes.length ? votesTable(evidence) : ''}
      ${!evidence.votes.length && evidence.facts.length && transition.reason !== 'opened' ? facts(evidence) : ''}
    </li>`,
    )}</ol>
  </details>
</li>`
}

/** Open incidents with their evidence. */
export function openRegion(data: SiteData, nowMs: number): SafeHtml {
  if (data.open.length === 0) return html`<p class="empty calm">No open incidents.</p>`
  return html`<ol class="timeline">${data.open.map((item) =>
    eventEntry(item, nowMs, true, data.confirmationUnavailable.has(item.event.id)),
  )}</ol>`
}

/** Every event of the site, newest first, a page at a time. */
export function timelineRegion(
  data: SiteData,
  nowMs: number,
  pageLinks: { older: string | null; newest: string | null },
): SafeHtml {
  if (data.timeline.length === 0) return html`<p class="empty calm">No events recorded for this site.</p>`
  return html`<ol class="timeline">${data.timeline.map((item) =>
    eventEntry(item, nowMs, false, data.confirmationUnavailable.has(item.event.id)),
  )}</ol>
<nav class="pager">${pageLinks.newest ? html`<a href="${pageLinks.newest}">← Newest events</a>` : ''}${
    pageLinks.older ? html`<a href="${pageLinks.older}">Older events →</a>` : ''
  }</nav>`
}

/**
 * Request method and detection profile, e.g. `HEAD · legacy profile`; a value the endpoint does not
 * set itself is marked as the fleet default (or reads `default` when the dashboard does not know it).
 */
function policyCell(
  policy: { method: PolicyLabel; profile: PolicyLabel } | undefined,
  endpoint: { request_method: string; detection_profile: string },
): SafeHtml {
  const method = policy?.method ?? { value: endpoint.request_method, inherited: false }
  const profile = policy?.profile ?? { value: endpoint.detection_profile, inherited: false }
  const inherited = [method.inherited ? 'method' : null, profile.inherited ? 'profile' : null].filter(Boolean)
  return html`<span class="policy">${method.value === FLEET_DEFAULT_LABEL ? 'default method' : method.value} · ${profile.value} profile</span>${
    inherited.length ? html`<span class="sub">${inherited.join(' and ')}: fleet default</span>` : ''
  }`
}

/** Endpoints with their effective configuration (header names only, never values) and runtime. */
export function endpointsRegion(data: SiteData, nowMs: number): SafeHtml {
  return html`<div class="table-wrap"><table class="table endpoints">
<thead><tr><th>Endpoint</th><th>State</th><th class="num">Interval</th><th class="num">Timeout</th><th>Request</th><th>Content rules</th><th>Thresholds</th><th>Last check</th><th>TLS</th></tr></thead>
<tbody>${data.detail.endpoints.map((endpoint) => {
    const runtime = endpoint.runtime
    const rules = [
      endpoint.check_keyword ? `must contain “${endpoint.check_keyword}”` : null,
      endpoint.forbidden_keywords.length
        ? `must not contain ${endpoint.forbidden_keywords.map((k) => `“${k}”`).join(', ')}`
        : null,
      endpoint.check_keyword || endpoint.forbidden_keywords.length
        ? endpoint.keyword_case_sensitive
          ? 'case-sensitive'
          : 'case-insensitive'
        : null,
    ].filter(Boolean)
    const lastCode =
      runtime.last_error_code && runtime.last_error_code !== 0
        ? `${errorName(runtime.last_error_code) ?? runtime.last_error_code}${runtime.last_http_code ? ` (HTTP ${runtime.last_http_code})` : ''}`
        : runtime.last_http_code
          ? `HTTP ${runtime.last_http_code}`
          : ''
    return html`<tr>
  <td><span class="mono">${redactUrl(endpoint.monitor_url)}</span><span class="sub">endpoint ${String(endpoint.endpoint_id)} · bucket ${endpoint.bucket_no}</span></td>
  <td>${badge(endpoint.current_state)}</td>
  <td class="num">${formatDuration(endpoint.check_interval_sec * 1000)}</td>
  <td class="num">${formatMs(endpoint.timeout_ms)}</td>
  <td>${policyCell(data.policies.get(String(endpoint.endpoint_id)), endpoint)} · redirects ${endpoint.redirect_policy}${endpoint.redirect_policy === 'follow' ? ` (max ${endpoint.max_redirects})` : ''}${
    endpoint.custom_header_names.length
      ? html`<span class="sub">headers: ${endpoint.custom_header_names.join(', ')} (values hidden)</span>`
      : ''
  }</td>
  <td>${rules.length ? rules.join(' · ') : html`<span class="muted">none</span>`}</td>
  <td>${endpoint.latency_threshold_ms ? `slow above ${formatMs(endpoint.latency_threshold_ms)}` : html`<span class="muted">no latency limit</span>`}<span class="sub">certificate warning ${endpoint.tls_expiry_warn_days} d · cooldown ${endpoint.alert_cooldown_minutes} min</span></td>
  <td>${ago(runtime.last_checked_at ? new Date(runtime.last_checked_at) : null, nowMs)}${lastCode ? html`<span class="sub">${lastCode}</span>` : ''}</td>
  <td>${runtime.tls_version ?? html`<span class="muted">—</span>`}${
    runtime.ssl_expires_at ? html`<span class="sub">expires ${ago(new Date(runtime.ssl_expires_at), nowMs)}</span>` : ''
  }</td>
</tr>`
  })}</tbody>
</table></div>`
}

/** The chart's panel: window tabs, the chart's container and its data (drawn by the browser). */
export function chartPanel(data: SiteData, windowLinks: Record<ChartWindow, string>): SafeHtml {
  const chart = data.chart
  const points = chart.other.filter((value) => value !== null).length
  const stepLabel = formatDuration(chart.stepMs)
  return html`<div class="panel-head">
  <h2>Response time <span class="sub">mean of successful checks per ${stepLabel}, by phase</span></h2>
  <nav class="tabs" aria-label="Chart window">${(Object.keys(CHART_WINDOWS) as ChartWindow[]).map(
    (window) =>
      html`<a href="${windowLinks[window]}"${window === chart.window ? html` aria-current="true" class="active"` : ''}>${window}</a>`,
  )}</nav>
</div>
<div class="chart" id="chart" data-points="${points}" role="img" aria-label="Stacked response time: DNS, connect, TLS, time to first byte and transfer"></div>
${
  chart.source === 'none'
    ? html`<p class="empty">History keeps failed checks only (HISTORY_MODE=failures), so there is no response-time series.</p>`
    : points === 0
      ? html`<p class="empty">No successful check in this window.</p>`
      : ''
}
${jsonScript('chart-data', chart)}`
}

/** The site page's body. */
export function siteBody(
  data: SiteData,
  nowMs: number,
  links: { windows: Record<ChartWindow, string>; older: string | null; newest: string | null },
): SafeHtml {
  return html`<section data-region="head">${headRegion(data, nowMs)}</section>
<section class="figures" aria-label="Uptime and response time" data-region="figures">${figuresRegion(data)}</section>
${
  data.objectives.length > 0
    ? html`<section class="panel" aria-labelledby="objectives-h"><div class="panel-head"><h2 id="objectives-h">Objectives <span class="sub">error budget, burn rate and streak of each service level objective</span></h2></div><div data-region="objectives">${objectivesRegion(
        data.objectives,
        nowMs,
      )}</div></section>`
    : ''
}
<section class="panel chart-panel" data-region="chart">${chartPanel(data, links.windows)}</section>
<section class="panel" aria-labelledby="uptime-h"><div class="panel-head"><h2 id="uptime-h">Uptime</h2></div><div data-region="bars">${barsRegion(
    data,
  )}</div></section>
<section class="panel" aria-labelledby="regions-h"><div class="panel-head"><h2 id="regions-h">Regions <span class="sub">who checked the site over the last 24 h</span></h2></div><div data-region="regions">${regionsRegion(
    data,
    nowMs,
  )}</div></section>
<section class="panel" aria-labelledby="open-h"><div class="panel-head"><h2 id="open-h">Open incidents</h2></div><div data-region="open">${openRegion(
    data,
    nowMs,
  )}</div></section>
<section class="panel" aria-labelledby="endpoints-h"><div class="panel-head"><h2 id="endpoints-h">Endpoints</h2></div><div data-region="endpoints">${endpointsRegion(
    data,
    nowMs,
  )}</div></section>
<section class="panel" aria-labelledby="timeline-h"><div class="panel-head"><h2 id="timeline-h">Event timeline</h2></div><div data-region="timeline">${timelineRegion(
    data,
    nowMs,
    links,
  )}</div></section>`
}

/** The regions swapped in on a live update. */
export function siteRegions(
  data: SiteData,
  nowMs: number,
  links: { windows: Record<ChartWindow, string>; older: string | null; newest: string | null },
): Record<string, string> {
  return {
    head: headRegion(data, nowMs).value,
    figures: figuresRegion(data).value,
    objectives: objectivesRegion(data.objectives, nowMs).value,
    chart: chartPanel(data, links.windows).value,
    bars: barsRegion(data).value,
    regions: regionsRegion(data, nowMs).value,
    open: openRegion(data, nowMs).value,
    endpoints: endpointsRegion(data, nowMs).value,
    timeline: timelineRegion(data, nowMs, links).value,
  }
}

/** The page title. */
export function siteTitle(data: SiteData): string {
  let host = data.detail.monitor_url
  try {
    host = new URL(host).host
  } catch {}
  return `${data.detail.current_state} · ${host} · Jetmon`
}
