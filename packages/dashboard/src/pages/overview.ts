/** The overview (`/`): counts by state, the sites list and the open incidents. */
import { html, type SafeHtml } from '../_html.js'
import { COUNTED_STATES, type CountedState, stateClass, stateSlug } from '../_states.js'
import type { Incident, Overview, OverviewQuery, SiteRow } from '../data/overview.js'
import { formatCount, formatMs } from '../shared/format.js'
import { ago, badge, since } from './_layout.js'
import { atRiskRegion } from './objectives.js'

function queryString(query: Pick<OverviewQuery, 'q' | 'state'>, state: CountedState | null | undefined): string {
  const params = new URLSearchParams()
  if (query.q) params.set('q', query.q)
  const chosen = state === undefined ? query.state : state
  if (chosen) params.set('state', stateSlug(chosen))
  const text = params.toString()
  return text ? `/?${text}` : '/'
}

/** The count tiles; each filters the list to its state. */
export function countsRegion(data: Overview, query: OverviewQuery): SafeHtml {
  return html`${COUNTED_STATES.map((state) => {
    const n = data.counts[state]
    const active = query.state === state
    return html`<a class="count ${stateClass(state)}${n === 0 ? ' zero' : ''}${active ? ' active' : ''}"
      href="${queryString(query, active ? null : state)}" data-count="${stateSlug(state)}"${active ? html` aria-current="true"` : ''}>
      <span class="count-n">${formatCount(n)}</span><span class="count-label">${state}</span></a>`
  })}`
}

function siteRow(site: SiteRow, nowMs: number): SafeHtml {
  const endpoints =
    site.endpointCount === 1
      ? '1 endpoint'
      : `${site.endpointCount} endpoints${site.activeEndpointCount < site.endpointCount ? ` (${site.activeEndpointCount} active)` : ''}`
  return html`<tr class="site-row ${stateClass(site.state)}" data-blog="${site.blogId.toString()}" data-state="${stateSlug(site.state)}">
  <td class="col-state">${badge(site.state)}</td>
  <td class="col-site"><a class="site-link" href="/sites/${site.blogId.toString()}">${site.url}</a>
    <span class="sub">blog ${site.blogId.toString()} · ${endpoints}</span></td>
  <td class="col-since num">${since(site.since, nowMs)}</td>
  <td class="col-check num">${ago(site.lastCheckedAt, nowMs)}</td>
  <td class="col-spark"><canvas class="spark" width="132" height="26" data-spark="${JSON.stringify(site.spark)}" data-failed="${JSON.stringify(
    site.sparkFailed,
  )}" role="img" aria-label="Response time, last hours"></canvas><span class="spark-ms num">${formatMs(site.latestMs)}</span></td>
</tr>`
}

/** The sites table (or what to do when nothing matches). */
export function sitesRegion(data: Overview, query: OverviewQuery, nowMs: number): SafeHtml {
  if (data.sites.length === 0) {
    const filtered = query.q || query.state
    return html`<div class="empty">${
      filtered
        ? html`No site matches${query.q ? html` “${query.q}”` : ''}${query.state ? html` in state ${query.state}` : ''}. <a href="/">Show every site</a>.`
        : html`No sites are monitored yet. Add one with <code>jetmon2 api sites create --blog-id 42 --monitor-url https://example.com/</code> or <code>POST /api/v1/sites</code>.`
    }</div>`
  }
  const hours = Math.round((data.spark.buckets * data.spark.stepMs) / 3_600_000)
  return html`<table class="table sites-table">
<thead><tr><th class="col-state">State</th><th>Site</th><th class="num">For</th><th class="num">Last check</th><th class="col-spark">Response, ${hours} h</th></tr></thead>
<tbody>${data.sites.map((site) => siteRow(site, nowMs))}</tbody>
</table>
${
  data.more
    ? html`<p class="more">Showing the ${data.sites.length} worst sites${query.q || query.state ? ' that match' : ''}. Search by URL or blog id, or pick a state, to find others.</p>`
    : ''
}`
}

function incidentItem(incident: Incident, nowMs: number): SafeHtml {
  return html`<li class="incident ${stateClass(incident.state)}" data-event="${incident.id.toString()}">
  <div class="incident-top">${badge(incident.state)}<span class="incident-type">${incident.checkType}</span>
    <span class="incident-age num" title="open for">${since(incident.startedAt, nowMs)}</span></div>
  <a class="incident-site" href="/sites/${incident.blogId.toString()}#event-${incident.id.toString()}">${
    incident.url ?? `blog ${incident.blogId.toString()}`
  }</a>
  ${incident.evidence.summary ? html`<p class="incident-evidence">${incident.evidence.summary}</p>` : ''}
  ${
    incident.confirmationUnavailable
      ? html`<p class="flag">Confirmation unavailable: no quorum of verifliers answered. Not counted as downtime yet.</p>`
      : ''
  }
</li>`
}

/** The open incidents, worst first. */
export function incidentsRegion(data: Overview, nowMs: number): SafeHtml {
  if (data.incidents.length === 0) {
    return html`<p class="empty calm">No open incidents.</p>`
  }
  return html`<ol class="incident-list">${data.incidents.map((incident) => incidentItem(incident, nowMs))}</ol>${
    data.openIncidentCount > data.incidents.length
      ? html`<p class="more">${formatCount(data.openIncidentCount - data.incidents.length)} more open incidents (the worst are shown).</p>`
      : ''
  }`
}

/** The page title: the worst news first, so a background tab says it. */
export function overviewTitle(data: Overview): string {
  const down = data.counts.Down
  const seems = data.counts['Seems Down']
  const parts = [down ? `${down} down` : null, seems ? `${seems} seems down` : null].filter(Boolean)
  return `${parts.length ? `(${parts.join(', ')}) ` : ''}Overview · Jetmon`
}

/** The state chips (their links keep the search). */
export function filtersRegion(query: OverviewQuery): SafeHtml {
  return html`<a href="${queryString(query, null)}" class="chip${query.state ? '' : ' active'}">All</a>${COUNTED_STATES.map(
    (state) =>
      html`<a href="${queryString(query, state)}" class="chip ${stateClass(state)}${query.state === state ? ' active' : ''}">${state}</a>`,
  )}`
}

/** The overview's body. */
export function overviewBody(data: Overview, query: OverviewQuery, nowMs: number): SafeHtml {
  return html`<section class="counts" aria-label="Sites by state" data-region="counts">${countsRegion(data, query)}</section>
<div class="columns">
  <section class="panel sites-panel" aria-labelledby="sites-h">
    <div class="panel-head">
      <h2 id="sites-h">Sites <span class="pill num" data-region="total">${formatCount(data.totalSites)}</span></h2>
      <form class="search" method="get" action="/" role="search">
        <input type="search" name="q" id="q" value="${query.q ?? ''}" placeholder="Search URL or blog id" autocomplete="off" spellcheck="false" aria-label="Search sites by URL or blog id">
        ${query.state ? html`<input type="hidden" name="state" value="${stateSlug(query.state)}">` : ''}
        <button type="submit">Search</button>
      </form>
    </div>
    <nav class="filters" aria-label="Filter by state" data-region="filters">${filtersRegion(query)}</nav>
    <div data-region="sites">${sitesRegion(data, query, nowMs)}</div>
  </section>
  <aside class="panel incidents-panel" aria-labelledby="incidents-h">
    <div class="panel-head"><h2 id="incidents-h">Open incidents <span class="pill num" data-region="incident-count">${formatCount(
      data.openIncidentCount,
    )}</span></h2></div>
    <div data-region="incidents">${incidentsRegion(data, nowMs)}</div>
    <div class="panel-head panel-head-sub"><h2 id="at-risk-h">Objectives at risk <span class="pill num" data-region="at-risk-count">${formatCount(
      data.atRisk.total,
    )}</span></h2></div>
    <div data-region="at-risk">${atRiskRegion(data.atRisk)}</div>
  </aside>
</div>`
}

/** The regions the browser swaps in on a live update. */
export function overviewRegions(data: Overview, query: OverviewQuery, nowMs: number): Record<string, string> {
  return {
    counts: countsRegion(data, query).value,
    filters: filtersRegion(query).value,
    total: formatCount(data.totalSites),
    sites: sitesRegion(data, query, nowMs).value,
    'incident-count': formatCount(data.openIncidentCount),
    incidents: incidentsRegion(data, nowMs).value,
    'at-risk-count': formatCount(data.atRisk.total),
    'at-risk': atRiskRegion(data.atRisk).value,
  }
}
