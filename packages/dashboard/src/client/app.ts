/**
 * The dashboard's browser script (the only one: the CSP forbids inline scripts). It keeps times
 * relative, draws sparklines and the chart, and keeps the page live: a server-sent event stream
 * says which sites changed, and the page fetches its own fresh regions (or polls when the stream
 * is unavailable).
 */
import 'uplot/dist/uPlot.min.css'
import './style.css'
import { formatAge, formatDuration, formatTime } from '../shared/format.js'
import { drawChart } from './chart.js'
import { drawSparklines } from './sparkline.js'

interface LiveMessage {
  seq: number
  blogs: string[]
  all: boolean
}

interface Fragment {
  position: string
  title: string
  regions: Record<string, string>
}

const body = document.body
const page = body.dataset.page ?? ''
const blog = body.dataset.blog ?? null

function tickTimes(): void {
  const now = Date.now()
  document.querySelectorAll<HTMLTimeElement>('time[data-age]').forEach((el) => {
    const at = Date.parse(el.dateTime)
    if (!Number.isNaN(at)) el.textContent = formatAge(at, now)
  })
  document.querySelectorAll<HTMLTimeElement>('time[data-duration]').forEach((el) => {
    const at = Date.parse(el.dateTime)
    if (!Number.isNaN(at)) el.textContent = formatDuration(now - at)
  })
  const clock = document.getElementById('clock')
  if (clock) clock.textContent = `${formatTime(now).slice(11, 16)} UTC`
}

function setLive(state: 'connecting' | 'live' | 'reconnecting' | 'polling' | 'offline', text: string): void {
  const el = document.getElementById('live')
  if (!el) return
  el.dataset.state = state
  const label = el.querySelector('.live-text')
  if (label) label.textContent = text
}

// ── fragments ──────────────────────────────────────────────────────────────────────────────────

function fragmentUrl(): string {
  const url = new URL(location.href)
  url.searchParams.set('fragment', '1')
  url.hash = ''
  return url.toString()
}

function apply(fragment: Fragment): void {
  const before = new Map<string, string>()
  document.querySelectorAll<HTMLElement>('tr[data-blog]').forEach((row) => {
    before.set(row.dataset.blog ?? '', row.dataset.state ?? '')
  })
  const openDetails = new Set<string>()
  const closedDetails = new Set<string>()
  document.querySelectorAll<HTMLDetailsElement>('li[id] > details').forEach((details) => {
    const id = (details.parentElement as HTMLElement).id
    if (details.open) openDetails.add(id)
    else closedDetails.add(id)
  })
  const replaced = new Set<string>()
  for (const [name, html] of Object.entries(fragment.regions)) {
    // Compared with what was applied last (a drawn chart's DOM never equals its server markup).
    if (applied.get(name) === html) continue
    applied.set(name, html)
    replaced.add(name)
    document.querySelectorAll<HTMLElement>(`[data-region="${CSS.escape(name)}"]`).forEach((el) => {
      el.innerHTML = html
    })
  }
  document.querySelectorAll<HTMLDetailsElement>('li[id] > details').forEach((details) => {
    const id = (details.parentElement as HTMLElement).id
    if (openDetails.has(id)) details.open = true
    else if (closedDetails.has(id)) details.open = false
  })
  document.querySelectorAll<HTMLElement>('tr[data-blog]').forEach((row) => {
    const previous = before.get(row.dataset.blog ?? '')
    if (previous !== undefined && previous !== row.dataset.state) row.classList.add('flash')
  })
  if (fragment.title) document.title = fragment.title
  tickTimes()
  drawSparklines()
  if (replaced.has('chart')) drawChart()
}

/** The markup last applied to each region. */
const applied = new Map<string, string>()

let refreshing = false
let again = false
let refreshTimer: number | undefined

async function refresh(): Promise<void> {
  if (refreshing) {
    again = true
    return
  }
  refreshing = true
  try {
    const response = await fetch(fragmentUrl(), { headers: { accept: 'application/json' }, credentials: 'same-origin' })
    if (response.status === 401) {
      location.reload()
      return
    }
    if (!response.ok) return
    const fragment = (await response.json()) as Fragment
    apply(fragment)
  } catch {
    // A failed refresh is retried on the next change or poll.
  } finally {
    refreshing = false
    if (again) {
      again = false
      schedule(0)
    }
  }
}

function schedule(delayMs = 250): void {
  window.clearTimeout(refreshTimer)
  refreshTimer = window.setTimeout(() => void refresh(), delayMs)
}

// ── live stream ────────────────────────────────────────────────────────────────────────────────

let pollTimer: number | undefined

function startPolling(everyMs: number): void {
  window.clearInterval(pollTimer)
  pollTimer = window.setInterval(() => void refresh(), everyMs)
}

function relevant(message: LiveMessage): boolean {
  if (page === 'overview') return true
  if (page === 'site') return message.all || (blog !== null && message.blogs.includes(blog))
  return false
}

function connect(position: string): void {
  if (typeof EventSource === 'undefined') {
    setLive('polling', 'Polling')
    startPolling(10_000)
    return
  }
  const source = new EventSource(`/live?after=${encodeURIComponent(position)}`)
  let wasOpen = false
  source.addEventListener('open', () => {
    setLive('live', 'Live')
    // After a reconnect the server replays what was missed; a refresh covers a restart too.
    if (wasOpen) schedule()
    wasOpen = true
  })
  source.addEventListener('change', (event) => {
    const message = JSON.parse((event as MessageEvent<string>).data) as LiveMessage
    if (relevant(message)) schedule()
  })
  source.addEventListener('resync', () => schedule())
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) {
      // Refused (too many pages open, or signed out): poll instead.
      setLive('polling', 'Polling')
      startPolling(10_000)
    } else {
      setLive('reconnecting', 'Reconnecting')
    }
  })
}

// ── search ─────────────────────────────────────────────────────────────────────────────────────

function wireSearch(): void {
  const input = document.getElementById('q') as HTMLInputElement | null
  if (!input) return
  let timer: number | undefined
  input.addEventListener('input', () => {
    window.clearTimeout(timer)
    timer = window.setTimeout(() => {
      const url = new URL(location.href)
      const q = input.value.trim()
      if (q) url.searchParams.set('q', q)
      else url.searchParams.delete('q')
      history.replaceState(null, '', url)
      void refresh()
    }, 300)
  })
}

// ── start ──────────────────────────────────────────────────────────────────────────────────────

function start(): void {
  tickTimes()
  window.setInterval(tickTimes, 5_000)
  drawSparklines()
  if (page === 'site') drawChart()
  wireSearch()
  const position = body.dataset.live
  if (position) connect(position)
  if (page === 'fleet') startPolling(5_000)
  let lastDpr = window.devicePixelRatio
  window.addEventListener('resize', () => {
    if (window.devicePixelRatio !== lastDpr) {
      lastDpr = window.devicePixelRatio
      drawSparklines()
    }
  })
}

start()
