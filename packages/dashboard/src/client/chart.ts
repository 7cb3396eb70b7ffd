/**
 * The site page's response-time chart: mean DNS, connect, TLS, time-to-first-byte and transfer
 * time per bucket, stacked (uPlot draws the cumulative series top-down, each filled to the axis,
 * so every band shows one phase), with the site's event states as bands behind them.
 */
import uPlot from 'uplot'
import { formatMs, formatTime } from '../shared/format.js'

interface ChartData {
  window: string
  fromMs: number
  toMs: number
  stepMs: number
  t: number[]
  dns: (number | null)[]
  connect: (number | null)[]
  tls: (number | null)[]
  ttfb: (number | null)[]
  other: (number | null)[]
  checks: number[]
  failed: number[]
  bands: [number, number, string][]
  source: 'raw' | 'none'
}

/** Bottom to top. */
const PHASES = [
  ['dns', 'DNS', '--phase-dns'],
  ['connect', 'Connect', '--phase-connect'],
  ['tls', 'TLS', '--phase-tls'],
  ['ttfb', 'TTFB', '--phase-ttfb'],
  ['other', 'Transfer', '--phase-other'],
] as const

const BAND_VARS: Record<string, string> = {
  Down: '--down',
  'Seems Down': '--seems',
  Degraded: '--degraded',
  Warning: '--warning',
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback
}

function withAlpha(color: string, alpha: number): string {
  const hex = color.replace('#', '')
  if (!/^[0-9a-f]{6}$/i.test(hex)) return color
  const n = Number.parseInt(hex, 16)
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`
}

let current: { chart: uPlot; observer: ResizeObserver } | null = null

/** (Re)draws the chart from `#chart-data` into `#chart`; nothing when the page has none. */
export function drawChart(): void {
  current?.observer.disconnect()
  current?.chart.destroy()
  current = null
  const container = document.getElementById('chart')
  const source = document.getElementById('chart-data')
  if (!container || !source?.textContent) return
  const data = JSON.parse(source.textContent) as ChartData

  // Cumulative values, top phase first: series i is the sum of phases 0..(4 - i).
  const raw = PHASES.map(([key]) => data[key])
  const stacked: (number | null)[][] = []
  for (let top = PHASES.length - 1; top >= 0; top--) {
    stacked.push(
      data.t.map((_, i) => {
        if (raw[PHASES.length - 1]![i] === null) return null
        let sum = 0
        for (let p = 0; p <= top; p++) sum += raw[p]![i] ?? 0
        return sum
      }),
    )
  }
  const ordered = [...PHASES].reverse()
  const text = cssVar('--text-dim', '#8b949e')
  const grid = cssVar('--grid', '#30363d')
  const bands = data.bands
  const width = Math.max(300, container.clientWidth)

  const options: uPlot.Options = {
    width,
    height: 260,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    scales: {
      x: { time: true, range: () => [data.fromMs / 1000, data.toMs / 1000] },
      y: { range: (_u, _min, max) => [0, max > 0 ? uPlot.rangeNum(0, max, 0.1, true)[1] : 100] },
    },
    legend: { live: true },
    cursor: { points: { show: false }, drag: { x: false, y: false } },
    axes: [
      {
        stroke: text,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
        // UTC, 24-hour: the date at midnight, the time elsewhere (uPlot's default is local, 12-hour).
        values: (_u, ticks) =>
          ticks.map((t) => {
            const label = formatTime(t * 1000)
            return label.slice(11, 16) === '00:00' ? label.slice(5, 10) : label.slice(11, 16)
          }),
      },
      {
        stroke: text,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
        size: 64,
        values: (_u, ticks) => ticks.map((v) => formatMs(v)),
      },
    ],
    series: [
      { value: (_u, v) => (v === null ? '—' : `${formatTime(v * 1000).slice(0, 16)} UTC`) },
      ...ordered.map(([key, label, color]): uPlot.Series => {
        const fill = cssVar(color, '#58a6ff')
        const rawIndex = PHASES.findIndex(([k]) => k === key)
        return {
          label,
          stroke: fill,
          width: 0,
          fill,
          points: { show: false },
          spanGaps: false,
          value: (_u, _v, _si, idx) => (idx === null ? '—' : formatMs(raw[rawIndex]![idx] ?? null)),
        }
      }),
    ],
    hooks: {
      drawClear: [
        (u) => {
          const ctx = u.ctx
          ctx.save()
          for (const [start, end, state] of bands) {
            const x0 = u.valToPos(start / 1000, 'x', true)
            const x1 = u.valToPos(end / 1000, 'x', true)
            ctx.fillStyle = withAlpha(cssVar(BAND_VARS[state] ?? '--down', '#f85149'), 0.22)
            ctx.fillRect(x0, u.bbox.top, Math.max(1, x1 - x0), u.bbox.height)
          }
          ctx.restore()
        },
      ],
    },
  }
  const chart = new uPlot(options, [data.t, ...stacked] as uPlot.AlignedData, container)
  const observer = new ResizeObserver(() => {
    const w = Math.max(300, container.clientWidth)
    if (Math.abs(w - chart.width) > 2) chart.setSize({ width: w, height: 260 })
  })
  observer.observe(container)
  current = { chart, observer }
  container.dataset.drawn = String(stacked[0]!.filter((v) => v !== null).length)
}
