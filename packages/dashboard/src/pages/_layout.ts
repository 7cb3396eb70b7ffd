/** The page shell every dashboard page shares, and small pieces used across pages. */
import type { Assets } from '../_assets.js'
import { html, type SafeHtml } from '../_html.js'
import { stateClass } from '../_states.js'
import { formatAge, formatDuration, formatTime } from '../shared/format.js'

export type PageName = 'overview' | 'site' | 'fleet' | 'signin' | 'error'

export interface LayoutInput {
  title: string
  page: PageName
  assets: Assets
  body: SafeHtml
  /** Where the page's live stream resumes from; absent: no live updates. */
  livePosition?: string
  /** Shown on the sign-out button when the dashboard asks for keys. */
  signedInAs?: string | null
  /** Extra `data-*` for the browser script (validated values only). */
  data?: Record<string, string>
  version?: string | undefined
}

/** A full HTML document. */
export function layout(input: LayoutInput): SafeHtml {
  const nav = (href: string, label: string, page: PageName) =>
    html`<a href="${href}"${input.page === page ? html` aria-current="page"` : ''}>${label}</a>`
  const data = Object.entries(input.data ?? {}).map(([key, value]) => html` data-${key}="${value}"`)
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark light">
<meta name="referrer" content="no-referrer">
<title>${input.title}</title>
<link rel="icon" href="${input.assets.url('favicon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${input.assets.url('app.css')}">
<script type="module" src="${input.assets.url('app.js')}"></script>
</head>
<body data-page="${input.page}"${input.livePosition ? html` data-live="${input.livePosition}"` : ''}${data}>
<header class="topbar">
  <a class="brand" href="/"><span class="brand-mark" aria-hidden="true"></span>Jetmon</a>
  ${
    input.page === 'signin'
      ? ''
      : html`<nav class="nav">${nav('/', 'Overview', 'overview')}${nav('/fleet', 'Fleet', 'fleet')}</nav>`
  }
  <span class="spacer"></span>
  ${
    input.livePosition
      ? html`<span class="live" id="live" data-state="connecting" title="Live updates">
      <span class="live-dot" aria-hidden="true"></span><span class="live-text">Connecting</span></span>`
      : ''
  }
  <span class="clock" id="clock" title="Coordinated Universal Time"></span>
  ${
    input.signedInAs
      ? html`<form class="signout" method="post" action="/signout"><button type="submit" title="Signed in as ${input.signedInAs}">Sign out</button></form>`
      : ''
  }
</header>
<main class="main">
${input.body}
</main>
<footer class="footer">Read-only view · all times UTC${input.version ? html` · jetmon2 ${input.version}` : ''}</footer>
</body>
</html>
`
}

/** A state badge: `<span class="badge st-down">Down</span>`. */
export function badge(state: string, extra = ''): SafeHtml {
  return html`<span class="badge ${stateClass(state)}${extra ? ` ${extra}` : ''}">${state}</span>`
}

/** A time the browser keeps relative (`3 min ago`), with the exact time on hover. */
export function ago(at: Date | null | undefined, nowMs: number): SafeHtml {
  if (!at) return html`<span class="muted">—</span>`
  const ms = at.getTime()
  return html`<time datetime="${at.toISOString()}" data-age title="${formatTime(ms)} UTC">${formatAge(ms, nowMs)}</time>`
}

/** How long since `at` (`12 min`), kept current by the browser. */
export function since(at: Date | null | undefined, nowMs: number): SafeHtml {
  if (!at) return html`<span class="muted">—</span>`
  const ms = at.getTime()
  return html`<time datetime="${at.toISOString()}" data-duration title="since ${formatTime(ms)} UTC">${formatDuration(
    nowMs - ms,
  )}</time>`
}

/** An absolute UTC time. */
export function at(date: Date | null | undefined): SafeHtml {
  if (!date) return html`<span class="muted">—</span>`
  return html`<time datetime="${date.toISOString()}">${formatTime(date.getTime())}</time>`
}
