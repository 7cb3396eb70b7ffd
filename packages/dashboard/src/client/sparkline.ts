/** Sparklines: a few dozen points drawn straight onto a small canvas (no chart object per row). */

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim()
}

function parseList(text: string | undefined): (number | null)[] {
  if (!text) return []
  try {
    const value = JSON.parse(text) as unknown
    return Array.isArray(value) ? value.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null)) : []
  } catch {
    return []
  }
}

/** Draws one sparkline from its `data-spark` (mean ms per bucket) and `data-failed` (0/1 per bucket). */
export function drawSparkline(canvas: HTMLCanvasElement): void {
  const values = parseList(canvas.dataset.spark)
  const failed = parseList(canvas.dataset.failed)
  const cssWidth = Number(canvas.getAttribute('width')) || 120
  const cssHeight = Number(canvas.getAttribute('height')) || 24
  const dpr = window.devicePixelRatio || 1
  if (canvas.dataset.dpr !== String(dpr)) {
    canvas.style.width = `${cssWidth}px`
    canvas.style.height = `${cssHeight}px`
    canvas.width = Math.round(cssWidth * dpr)
    canvas.height = Math.round(cssHeight * dpr)
    canvas.dataset.dpr = String(dpr)
  }
  const ctx = canvas.getContext('2d')
  if (!ctx) return
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0)
  ctx.clearRect(0, 0, cssWidth, cssHeight)
  const n = values.length
  if (n === 0) return
  const max = Math.max(1, ...values.filter((v): v is number => v !== null)) * 1.1
  const step = cssWidth / n
  const x = (i: number) => i * step + step / 2
  const y = (v: number) => cssHeight - 3 - (v / max) * (cssHeight - 6)

  // Failed buckets: a red tick along the bottom.
  ctx.fillStyle = cssVar('--down') || '#f85149'
  failed.forEach((f, i) => {
    if (f) ctx.fillRect(i * step, cssHeight - 3, Math.max(1.5, step - 1), 3)
  })

  ctx.strokeStyle = cssVar('--spark') || '#58a6ff'
  ctx.lineWidth = 1.5
  ctx.lineJoin = 'round'
  ctx.beginPath()
  let drawing = false
  let points = 0
  values.forEach((v, i) => {
    if (v === null) {
      drawing = false
      return
    }
    points++
    if (drawing) ctx.lineTo(x(i), y(v))
    else ctx.moveTo(x(i), y(v))
    drawing = true
  })
  ctx.stroke()
  // Lone points (between gaps) would be invisible as lines: dot them.
  ctx.fillStyle = ctx.strokeStyle
  values.forEach((v, i) => {
    if (v !== null && values[i - 1] == null && values[i + 1] == null) {
      ctx.beginPath()
      ctx.arc(x(i), y(v), 1.5, 0, Math.PI * 2)
      ctx.fill()
    }
  })
  canvas.dataset.points = String(points)
}

/** Draws every sparkline under `root`. */
export function drawSparklines(root: ParentNode = document): void {
  root.querySelectorAll<HTMLCanvasElement>('canvas.spark').forEach(drawSparkline)
}
