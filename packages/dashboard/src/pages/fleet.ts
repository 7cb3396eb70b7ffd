/** The fleet page (`/fleet`): hosts and leases, processes, verifliers, queues, WPCOM, drift. */
import { html, type SafeHtml } from '../_html.js'
import type { Fleet, QueueDepth } from '../data/fleet.js'
import { formatBytes, formatCount, formatDuration, formatMs, formatPercent } from '../shared/format.js'
import { ago, at, since } from './_layout.js'

function bucketBar(fleet: Fleet): SafeHtml {
  const total = fleet.bucketTotal
  const width = 1000
  const x = (bucket: number) => (bucket / total) * width
  const live = fleet.hosts.filter((host) => host.live && host.bucketMin !== null && host.bucketMax !== null)
  return html`<svg class="buckets" viewBox="0 0 ${width} 14" preserveAspectRatio="none" role="img" aria-label="Bucket ownership across live hosts">
  <rect class="bucket-gap" x="0" y="0" width="${width}" height="14"></rect>
  ${live.map(
    (host, i) =>
      html`<rect class="bucket-range bucket-${i % 6}${host.pinned ? ' pinned' : ''}" x="${x(host.bucketMin!).toFixed(2)}" y="0" width="${Math.max(
        1,
        x(host.bucketMax! + 1) - x(host.bucketMin!),
      ).toFixed(2)}" height="14"><title>${host.hostId}: buckets ${host.bucketMin}–${host.bucketMax}</title></rect>`,
  )}
</svg>`
}

/** What a host's rollout mode means for its buckets, under the mode's name. */
const ROLLOUT_MODE_NOTES: Record<string, string> = {
  standby: 'checks nothing',
  'api-controlled': 'ranges activated through the rollout API',
}

function hostsSection(fleet: Fleet, nowMs: number): SafeHtml {
  if (fleet.hosts.length === 0) {
    return html`<p class="empty">No monitor host has registered in <code>jetmon_hosts</code>. Is <code>jetmon2 serve</code> running?</p>`
  }
  return html`${bucketBar(fleet)}
${
  fleet.uncovered.length
    ? html`<p class="flag">Buckets without a live host: ${fleet.uncovered.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(', ')}. Endpoints in them are not being checked until a host takes them over (within two lease periods).</p>`
    : ''
}
<div class="table-wrap"><table class="table">
<thead><tr><th>Host</th><th>Status</th><th>Mode</th><th>Buckets</th><th class="num">Heartbeat</th><th class="num">Lease</th><th>Version</th><th class="num">Up for</th></tr></thead>
<tbody>${fleet.hosts.map(
    (host) => html`<tr class="${host.live ? '' : 'dim'}">
  <td class="mono">${host.hostId}</td>
  <td>${
    host.live
      ? html`<span class="dot ${host.status === 'draining' ? 'amber' : 'green'}"></span>${host.status}`
      : html`<span class="dot red"></span>lease expired`
  }</td>
  <td>${host.rolloutMode}${ROLLOUT_MODE_NOTES[host.rolloutMode] ? html`<span class="sub">${ROLLOUT_MODE_NOTES[host.rolloutMode]}</span>` : ''}</td>
  <td class="mono">${host.bucketMin === null || host.bucketMax === null ? 'none' : `${host.bucketMin}–${host.bucketMax}`}${
    host.pinned ? html` <span class="tag">pinned</span>` : ''
  }</td>
  <td class="num">${ago(host.heartbeatAt, nowMs)}</td>
  <td class="num">${
    host.live
      ? html`expires in ${formatDuration(host.leaseExpiresAt.getTime() - nowMs)}`
      : html`expired ${ago(host.leaseExpiresAt, nowMs)}`
  }</td>
  <td>${host.version ?? '—'}</td>
  <td class="num">${since(host.startedAt, nowMs)}</td>
</tr>`,
  )}</tbody></table></div>`
}

/** The pressure signals as a person reads them. */
const PRESSURE_LABELS: Record<string, string> = {
  dispatch_lag: 'dispatch lag',
  event_loop_delay: 'event-loop delay',
  in_flight: 'in flight at cap',
}

function processesSection(fleet: Fleet, nowMs: number): SafeHtml {
  if (fleet.processes.length === 0) return html`<p class="empty">No process has reported its health yet.</p>`
  return html`<div class="table-wrap"><table class="table">
<thead><tr><th>Process</th><th>Role</th><th>Health</th><th class="num">Checks/s</th><th class="num">In flight</th><th class="num">Lag p95</th><th class="num">Endpoints</th><th class="num">RSS</th><th class="num">Reported</th><th>Version</th></tr></thead>
<tbody>${fleet.processes.map((process) => {
    const s = process.stats
    const health = process.stale ? 'red' : process.health
    return html`<tr class="${process.state === 'stopped' ? 'dim' : ''}">
  <td class="mono">${process.processId}<span class="sub">pid ${process.pid}</span></td>
  <td>${process.role}</td>
  <td>${
    !process.stale && process.pressure.length > 0
      ? html`<span class="dot amber"></span>${process.state}, under pressure<span class="sub">${process.pressure
          .map((signal) => PRESSURE_LABELS[signal] ?? signal)
          .join(', ')}: timeouts give no verdict${
          s.pressureSuppressed ? ` (${formatCount(s.pressureSuppressed)} so far)` : ''
        }</span>`
      : html`<span class="dot ${health}"></span>${process.stale ? 'stale' : process.state}`
  }</td>
  <td class="num">${s.checksPerSec === null ? '—' : s.checksPerSec.toFixed(s.checksPerSec < 10 ? 1 : 0)}</td>
  <td class="num">${s.inFlight === null ? '—' : `${formatCount(s.inFlight)}${s.maxInFlight === null ? '' : ` / ${formatCount(s.maxInFlight)}`}`}</td>
  <td class="num">${formatMs(s.lagP95Ms)}</td>
  <td class="num">${s.endpoints === null ? '—' : formatCount(s.endpoints)}${s.dueBacklog ? html`<span class="sub">${formatCount(s.dueBacklog)} due</span>` : ''}</td>
  <td class="num">${formatBytes(s.rss)}</td>
  <td class="num">${ago(process.updatedAt, nowMs)}</td>
  <td>${process.version ?? '—'}</td>
</tr>`
  })}</tbody></table></div>`
}

function verifliersSection(fleet: Fleet, nowMs: number): SafeHtml {
  if (fleet.verifliers === null) {
    return html`<p class="empty">${
      fleet.infoError
        ? html`The monitor did not say (${fleet.infoError}).`
        : 'This process does not report verifliers (they are configured on the monitor with VERIFLIERS).'
    }</p>`
  }
  if (fleet.verifliers.length === 0) {
    return html`<p class="empty">No verifliers configured: Down is confirmed by local retries alone.</p>`
  }
  return html`<div class="table-wrap"><table class="table">
<thead><tr><th>Veriflier</th><th>Region</th><th>Reachable</th><th class="num">Latency</th><th class="num">In flight</th><th>Version</th><th class="num">Checked</th></tr></thead>
<tbody>${fleet.verifliers.map(
    (v) => html`<tr>
  <td class="mono">${v.id}${v.url ? html`<span class="sub">${v.url}</span>` : ''}</td>
  <td>${v.region}</td>
  <td>${v.reachable ? html`<span class="dot green"></span>yes` : html`<span class="dot red"></span>no${v.error ? html`<span class="sub">${v.error}</span>` : ''}`}</td>
  <td class="num">${formatMs(v.latencyMs)}</td>
  <td class="num">${v.inFlight ?? '—'}</td>
  <td>${v.version ?? '—'}</td>
  <td class="num">${ago(v.checkedAt ?? null, nowMs)}</td>
</tr>`,
  )}</tbody></table></div>`
}

function queueRow(name: string, depth: QueueDepth, nowMs: number): SafeHtml {
  return html`<tr>
  <td>${name}</td>
  <td class="num">${formatCount(depth.pending)}</td>
  <td class="num">${formatCount(depth.due)}</td>
  <td class="num">${formatCount(depth.delivering)}</td>
  <td class="num${depth.abandoned ? ' warn' : ''}">${formatCount(depth.abandoned)}</td>
  <td class="num">${depth.oldestPendingAt ? since(depth.oldestPendingAt, nowMs) : '—'}</td>
</tr>`
}

function deliverySection(fleet: Fleet, nowMs: number): SafeHtml {
  return html`<div class="table-wrap"><table class="table">
<thead><tr><th>Queue</th><th class="num">Pending</th><th class="num">Due now</th><th class="num">Delivering</th><th class="num">Abandoned</th><th class="num">Oldest pending</th></tr></thead>
<tbody>${queueRow('Webhooks', fleet.queues.webhooks, nowMs)}${queueRow('Alert contacts', fleet.queues.alerts, nowMs)}</tbody>
</table></div>
${
  fleet.cursors.length
    ? html`<p class="sub">Dispatch cursors: ${fleet.cursors.map(
        (cursor, i) =>
          html`${i ? ' · ' : ''}${cursor.consumer} at transition ${cursor.lastTransitionId.toString()} (${
            cursor.behind === 0n ? 'up to date' : `${cursor.behind.toString()} behind`
          }, moved ${ago(cursor.updatedAt, nowMs)})`,
      )}</p>`
    : ''
}`
}

function wpcomSection(fleet: Fleet): SafeHtml {
  const wpcom = fleet.wpcom
  if (!wpcom) {
    return html`<p class="empty">${fleet.infoError ? html`The monitor did not say (${fleet.infoError}).` : 'This process does not report the WordPress.com notification path.'}</p>`
  }
  if (!wpcom.enabled) return html`<p class="empty">Disabled (WPCOM_NOTIFY_ENABLE=false).</p>`
  const tone = wpcom.breaker === 'closed' ? 'green' : wpcom.breaker === 'half_open' ? 'amber' : 'red'
  const meaning =
    wpcom.breaker === 'closed'
      ? 'notifications flow'
      : wpcom.breaker === 'open'
        ? 'WordPress.com keeps failing: notifications queue until a trial request succeeds'
        : 'one trial request is being let through'
  return html`<p class="breaker"><span class="dot ${tone}"></span><strong>Circuit ${wpcom.breaker.replace('_', '-')}</strong> — ${meaning}.</p>
<dl class="facts inline">
  <dt>Queued</dt><dd class="num">${formatCount(wpcom.queued)}</dd>
  <dt>In flight</dt><dd class="num">${formatCount(wpcom.inFlight)}</dd>
  <dt>Sent</dt><dd class="num">${formatCount(wpcom.sent)}</dd>
  <dt>Failed</dt><dd class="num">${formatCount(wpcom.failed)}</dd>
  ${wpcom.permanent === undefined ? '' : html`<dt>Refused (4xx)</dt><dd class="num">${formatCount(wpcom.permanent)}</dd>`}
  <dt>Dropped</dt><dd class="num">${formatCount(wpcom.dropped)}</dd>
  ${wpcom.suppressed === undefined ? '' : html`<dt>Suppressed</dt><dd class="num">${formatCount(wpcom.suppressed)}</dd>`}
</dl>
${wpcom.lastError ? html`<p class="sub">Last error: ${wpcom.lastError}</p>` : ''}`
}

function driftSection(fleet: Fleet): SafeHtml {
  const items = fleet.drift.items
  if (items.length === 0) {
    return html`<p class="empty calm">No drift: every endpoint's legacy <code>site_status</code> matches its open http events.</p>`
  }
  const status = (n: number) => (n === 0 ? '0 seems down' : n === 1 ? '1 running' : n === 2 ? '2 down' : String(n))
  return html`<p class="flag">${fleet.drift.more ? 'More than ' : ''}${items.length} endpoint${items.length === 1 ? '' : 's'} where <code>jetpack_monitor_sites.site_status</code> disagrees with the open events. Old readers see the wrong status; the next http transition of each rewrites it. <code>jetmon2 projection-drift</code> lists them all.</p>
<div class="table-wrap"><table class="table">
<thead><tr><th>Endpoint</th><th>Site</th><th>Stored</th><th>Expected</th><th>Open http event</th><th>Changed</th></tr></thead>
<tbody>${items.map(
    (item) => html`<tr>
  <td class="mono">${item.endpointId.toString()}${item.monitorActive ? '' : html` <span class="tag">inactive</span>`}</td>
  <td><a href="/sites/${item.blogId.toString()}">blog ${item.blogId.toString()}</a></td>
  <td>${status(item.siteStatus)}</td><td>${status(item.expectedStatus)}</td>
  <td>${item.openHttpState ?? 'none'}</td><td>${at(item.lastStatusChange)}</td>
</tr>`,
  )}</tbody></table></div>`
}

function checkPolicySection(fleet: Fleet): SafeHtml {
  const { cohorts, defaults } = fleet.checkPolicy
  if (cohorts.length === 0) return html`<p class="empty">No active endpoint.</p>`
  return html`<div class="table-wrap"><table class="table cohorts">
<thead><tr><th>Method</th><th>Profile</th><th class="num">Active endpoints</th><th class="num">Share</th></tr></thead>
<tbody>${cohorts.map(
    (cohort) => html`<tr>
  <td>${cohort.requestMethod}</td><td>${cohort.detectionProfile}</td>
  <td class="num">${formatCount(cohort.endpoints)}</td><td class="num">${formatPercent(cohort.share * 100)}</td>
</tr>`,
  )}</tbody></table></div>
<p class="sub">${
    defaults
      ? html`Endpoints without their own method or profile count as the fleet default: ${defaults.requestMethod} · ${defaults.detectionProfile}.`
      : html`<code>default</code>: the endpoint has no method or profile of its own and follows the monitor's <code>DEFAULT_REQUEST_METHOD</code> / <code>DEFAULT_DETECTION_PROFILE</code>.`
  }</p>`
}

/** The fleet page's single live region. */
export function fleetRegion(fleet: Fleet, nowMs: number): SafeHtml {
  return html`<div class="fleet-grid">
<section class="panel span-2" aria-labelledby="hosts-h"><div class="panel-head"><h2 id="hosts-h">Monitor hosts</h2><span class="sub">${fleet.bucketTotal} buckets</span></div>${hostsSection(
    fleet,
    nowMs,
  )}</section>
<section class="panel span-2" aria-labelledby="proc-h"><div class="panel-head"><h2 id="proc-h">Processes</h2></div>${processesSection(
    fleet,
    nowMs,
  )}</section>
<section class="panel" aria-labelledby="vf-h"><div class="panel-head"><h2 id="vf-h">Verifliers</h2></div>${verifliersSection(
    fleet,
    nowMs,
  )}</section>
<section class="panel" aria-labelledby="wpcom-h"><div class="panel-head"><h2 id="wpcom-h">WordPress.com notifications</h2></div>${wpcomSection(
    fleet,
  )}</section>
<section class="panel" aria-labelledby="queues-h"><div class="panel-head"><h2 id="queues-h">Delivery queues</h2></div>${deliverySection(
    fleet,
    nowMs,
  )}</section>
<section class="panel" aria-labelledby="drift-h"><div class="panel-head"><h2 id="drift-h">Legacy projection drift</h2></div>${driftSection(
    fleet,
  )}</section>
<section class="panel" aria-labelledby="policy-h"><div class="panel-head"><h2 id="policy-h">Check policy</h2><span class="sub">method × detection profile</span></div>${checkPolicySection(
    fleet,
  )}</section>
</div>`
}

/** The fleet page's body. */
export function fleetBody(fleet: Fleet, nowMs: number): SafeHtml {
  return html`<h1 class="page-title">Fleet</h1><div data-region="fleet">${fleetRegion(fleet, nowMs)}</div>`
}
