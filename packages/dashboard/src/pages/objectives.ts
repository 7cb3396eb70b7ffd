/** Service level objectives: the site page's panel and the overview's list of objectives at risk. */
import { BURN_LOOKBACKS, budgetLevel, type Objective, type ObjectiveStatus } from '@jetmon/slo'
import { html, type SafeHtml } from '../_html.js'
import type { AtRiskObjective, ObjectivesAtRisk, ObjectiveView, RiskLevel } from '../data/objectives.js'
import { formatCount, formatDuration, formatPercent } from '../shared/format.js'
import { badge, since } from './_layout.js'

const SEGMENTS = 20
const LEVEL_CLASS: Record<RiskLevel, string> = { 0: 'slo-ok', 1: 'slo-warn', 2: 'slo-crit' }

/** `42.5 %`, `-12.0 %` once exhausted. */
export function formatBudget(percent: number): string {
  return `${percent.toFixed(1)} %`
}

/** `14.4×`, `0.00×`; `—` when nothing of the lookback was eligible. */
export function formatBurnRate(rate: number | null): string {
  if (rate === null || !Number.isFinite(rate)) return '—'
  return `${rate >= 10 ? rate.toFixed(1) : rate.toFixed(2)}×`
}

/** `12.3 d`, `5 h 10 min` under a day, `exhausted`, or `—` when the current pace never exhausts it. */
export function formatExhaustion(days: number | null): string {
  if (days === null) return '—'
  if (days === 0) return 'exhausted'
  if (days < 1) return formatDuration(days * 86_400_000)
  return `${days.toFixed(1)} d`
}

function describe(objective: Objective): string {
  const sli =
    objective.sli === 'latency' ? `latency ≤ ${formatCount(objective.latencyThresholdMs ?? 0)} ms` : 'availability'
  const scope = objective.endpointId === null ? 'all endpoints' : `endpoint ${objective.endpointId}`
  return `${sli} ${objective.target} % over ${objective.window} · ${scope}`
}

/**
 * The budget left as a bar of segments (no inline styles under the CSP) and its figure, coloured by
 * the budget's own level (a burn-rate alert colours the row, not the budget).
 */
function budgetBar(objective: Objective, status: ObjectiveStatus): SafeHtml {
  const level = budgetLevel(status, objective)
  const left = status.budgetRemainingPercent
  const filled = Math.max(0, Math.min(SEGMENTS, Math.round((left / 100) * SEGMENTS)))
  const label = `Error budget left: ${formatBudget(left)} (warning below ${objective.budgetWarnPercent} %, critical below ${objective.budgetCriticalPercent} %)`
  return html`<div class="budget ${LEVEL_CLASS[level]}">
  <div class="budget-bar" role="meter" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${left.toFixed(1)}" aria-label="${label}" title="${label}">${Array.from(
    { length: SEGMENTS },
    (_, i) => html`<span class="seg${i < filled ? ' on' : ''}"></span>`,
  )}</div>
  <span class="budget-left num" data-budget>${formatBudget(left)}</span>${
    status.exhausted ? html`<span class="tag tag-open">exhausted</span>` : ''
  }
</div>`
}

function burnRates(status: ObjectiveStatus): SafeHtml {
  const firing = new Set(status.firing.flatMap((rule) => [rule.long, rule.short]))
  return html`<dl class="burn-rates">${BURN_LOOKBACKS.map(
    (lookback) =>
      html`<div class="burn${firing.has(lookback) ? ' firing' : ''}" data-burn="${lookback}"><dt>${lookback}</dt><dd class="num">${formatBurnRate(
        status.burnRates[lookback],
      )}</dd></div>`,
  )}</dl>`
}

function firingRules(status: ObjectiveStatus): SafeHtml {
  if (status.firing.length === 0) return html``
  return html`<span class="sub">firing: ${status.firing
    .map((rule) => `${rule.severity} ${rule.long}/${rule.short} above ${rule.burnRate}×`)
    .join(', ')}</span>`
}

function objectiveRow(view: ObjectiveView, nowMs: number): SafeHtml {
  const { objective, status, streak } = view
  return html`<tr class="slo-row ${LEVEL_CLASS[view.level]}" id="objective-${objective.id.toString()}" data-objective="${objective.id.toString()}">
  <td><span class="slo-name">${objective.name}</span><span class="sub">${describe(objective)}</span></td>
  <td class="num" data-sli>${formatPercent(status.sliPercent)}</td>
  <td>${budgetBar(objective, status)}</td>
  <td>${burnRates(status)}${firingRules(status)}</td>
  <td class="num" data-exhaustion>${formatExhaustion(view.daysToExhaustion)}<span class="sub">at the 24 h burn rate</span></td>
  <td class="num" data-streak>${streak.currentDays} d<span class="sub">best ${streak.bestDays} d</span></td>
  <td data-alerts>${
    view.alerts.length === 0
      ? html`<span class="muted">none</span>`
      : view.alerts.map(
          (alert) =>
            html`<a class="slo-alert" href="#event-${alert.id.toString()}">${badge(alert.state)} <span class="sub">${alert.checkType} · ${since(
              alert.startedAt,
              nowMs,
            )}</span></a>`,
        )
  }</td>
</tr>`
}

/** The site page's objectives: budget, burn rates, time to exhaustion, streak and open alerts of each. */
export function objectivesRegion(objectives: readonly ObjectiveView[], nowMs: number): SafeHtml {
  if (objectives.length === 0) {
    return html`<p class="empty calm">No service level objective for this site. Add one with <code>jetmon2 api slos create</code> or <code>POST /api/v1/slos</code>.</p>`
  }
  return html`<div class="table-wrap"><table class="table objectives">
<thead><tr><th>Objective</th><th class="num">SLI</th><th>Error budget left</th><th>Burn rate <span class="sub">5 min … 3 days</span></th><th class="num">Runs out in</th><th class="num">Streak</th><th>Open alerts</th></tr></thead>
<tbody>${objectives.map((view) => objectiveRow(view, nowMs))}</tbody>
</table></div>`
}

function atRiskItem(item: AtRiskObjective): SafeHtml {
  const { objective, status } = item
  const id = objective.id.toString()
  return html`<li class="at-risk ${LEVEL_CLASS[item.level]}" data-objective="${id}">
  <div class="incident-top">${badge(item.level === 2 ? 'Degraded' : 'Warning')}<a class="slo-name" href="/sites/${objective.blogId.toString()}#objective-${id}">${objective.name}</a></div>
  <span class="sub">blog ${objective.blogId.toString()} · ${describe(objective)}</span>
  ${budgetBar(objective, status)}
  <span class="sub">1 h burn ${formatBurnRate(status.burnRates['1h'])} · 24 h burn ${formatBurnRate(status.burnRates['24h'])} · runs out in ${formatExhaustion(item.daysToExhaustion)}</span>
</li>`
}

/** The overview's objectives at risk, worst first. */
export function atRiskRegion(atRisk: ObjectivesAtRisk): SafeHtml {
  if (atRisk.objectives.length === 0) return html`<p class="empty calm">No objective at risk.</p>`
  return html`<ol class="incident-list at-risk-list">${atRisk.objectives.map(atRiskItem)}</ol>${
    atRisk.total > atRisk.objectives.length
      ? html`<p class="more">${formatCount(atRisk.total - atRisk.objectives.length)} more objectives at risk (the worst are shown).</p>`
      : ''
  }`
}
