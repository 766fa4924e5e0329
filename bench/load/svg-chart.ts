// A self-contained SVG of line charts stacked vertically over one shared x
// axis, with vertical event markers drawn through every panel (the failover
// chart: throughput above, p99 below, kill and restart marked). No
// dependency: the document is built as text.

export interface ChartLine {
  label: string
  color: string
  /** [x, y] pairs; x in the chart's x units, y ≥ 0 in the panel's units. Non-finite points are skipped. */
  points: ReadonlyArray<readonly [number, number]>
}

export interface ChartPanel {
  title: string
  yLabel: string
  lines: ChartLine[]
}

export interface ChartMarker {
  x: number
  label: string
  color: string
}

export interface StackedChart {
  title: string
  subtitle?: string
  xLabel: string
  /** The x axis runs from 0 to xMax. */
  xMax: number
  panels: ChartPanel[]
  markers: ChartMarker[]
  widthPx?: number
  panelHeightPx?: number
}

const MARGIN = { left: 80, right: 30, top: 70, bottom: 50 }
const PANEL_GAP_PX = 60
const MAX_PANELS = 8
const MAX_POINTS_PER_LINE = 100_000

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
}

/** The smallest 1, 2 or 5 × 10^k that is ≥ value (1 for values ≤ 0). */
export function niceCeiling(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1
  const power = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 2, 5, 10]) if (step * power >= value * (1 - 1e-12)) return step * power
  return 10 * power
}

/** Tick values from 0 to at least max, about `count` of them, on a 1/2/5 step. */
export function ticks(max: number, count: number): number[] {
  const step = niceCeiling(max / count)
  const top = Math.ceil(max / step - 1e-9) * step
  const values: number[] = []
  for (let v = 0; v <= top + step / 2 && values.length <= count * 3; v += step) values.push(Number(v.toPrecision(12)))
  return values
}

function formatTick(value: number): string {
  if (value >= 1_000_000) return `${Number((value / 1_000_000).toPrecision(3))}M`
  if (value >= 10_000) return `${Number((value / 1000).toPrecision(3))}k`
  return String(Number(value.toPrecision(4)))
}

const f = (n: number) => n.toFixed(1)

export function renderStackedChart(chart: StackedChart): string {
  if (chart.panels.length === 0 || chart.panels.length > MAX_PANELS) throw new RangeError(`a chart has 1 to ${MAX_PANELS} panels, got ${chart.panels.length}`)
  if (!(chart.xMax > 0)) throw new RangeError(`xMax must be positive, got ${chart.xMax}`)
  const width = chart.widthPx ?? 960
  const panelHeight = chart.panelHeightPx ?? 240
  const height = MARGIN.top + chart.panels.length * panelHeight + (chart.panels.length - 1) * PANEL_GAP_PX + MARGIN.bottom
  const plotWidth = width - MARGIN.left - MARGIN.right
  const xOf = (x: number) => MARGIN.left + (Math.min(Math.max(x, 0), chart.xMax) / chart.xMax) * plotWidth
  const out: string[] = []
  out.push('<?xml version="1.0" encoding="UTF-8"?>')
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`)
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`)
  out.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(chart.title)}</text>`)
  if (chart.subtitle) out.push(`<text x="${width / 2}" y="44" text-anchor="middle" fill="#555555">${escapeXml(chart.subtitle)}</text>`)

  const xTicks = ticks(chart.xMax, 10).filter((x) => x <= chart.xMax)
  chart.panels.forEach((panel, index) => {
    const top = MARGIN.top + index * (panelHeight + PANEL_GAP_PX)
    const bottom = top + panelHeight
    const yMaxData = Math.max(0, ...panel.lines.flatMap((line) => line.points.map(([, y]) => (Number.isFinite(y) ? y : 0))))
    const yTicks = ticks(yMaxData > 0 ? yMaxData : 1, 5)
    const yMax = yTicks[yTicks.length - 1]!
    const yOf = (y: number) => bottom - (Math.min(Math.max(y, 0), yMax) / yMax) * panelHeight
    out.push(`<g class="panel" data-title="${escapeXml(panel.title)}">`)
    out.push(`<text x="${MARGIN.left}" y="${top - 8}" font-weight="bold">${escapeXml(panel.title)}</text>`)
    for (const y of yTicks) {
      out.push(`<line x1="${MARGIN.left}" y1="${f(yOf(y))}" x2="${width - MARGIN.right}" y2="${f(yOf(y))}" stroke="#e6e6e6"/>`)
      out.push(`<text x="${MARGIN.left - 6}" y="${f(yOf(y) + 4)}" text-anchor="end" fill="#333333">${formatTick(y)}</text>`)
    }
    for (const x of xTicks) {
      out.push(`<line x1="${f(xOf(x))}" y1="${bottom}" x2="${f(xOf(x))}" y2="${bottom + 4}" stroke="#333333"/>`)
      out.push(`<text x="${f(xOf(x))}" y="${bottom + 17}" text-anchor="middle" fill="#333333">${formatTick(x)}</text>`)
    }
    out.push(`<line x1="${MARGIN.left}" y1="${bottom}" x2="${width - MARGIN.right}" y2="${bottom}" stroke="#333333"/>`)
    out.push(`<line x1="${MARGIN.left}" y1="${top}" x2="${MARGIN.left}" y2="${bottom}" stroke="#333333"/>`)
    const yLabelY = top + panelHeight / 2
    out.push(`<text x="20" y="${yLabelY}" text-anchor="middle" transform="rotate(-90 20 ${yLabelY})">${escapeXml(panel.yLabel)}</text>`)
    panel.lines.forEach((line, lineIndex) => {
      if (line.points.length > MAX_POINTS_PER_LINE) throw new RangeError(`a line has at most ${MAX_POINTS_PER_LINE} points`)
      const points = line.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => `${f(xOf(x))},${f(yOf(y))}`)
      out.push(`<polyline class="series" data-label="${escapeXml(line.label)}" fill="none" stroke="${escapeXml(line.color)}" stroke-width="2" points="${points.join(' ')}"/>`)
      const legendX = width - MARGIN.right - 160 * (panel.lines.length - lineIndex)
      out.push(`<line x1="${legendX}" y1="${top - 12}" x2="${legendX + 20}" y2="${top - 12}" stroke="${escapeXml(line.color)}" stroke-width="2"/>`)
      out.push(`<text x="${legendX + 26}" y="${top - 8}">${escapeXml(line.label)}</text>`)
    })
    out.push('</g>')
  })

  const plotsTop = MARGIN.top
  const plotsBottom = height - MARGIN.bottom
  chart.markers.forEach((marker, index) => {
    const xPx = xOf(marker.x)
    // Labels near the right edge go to the line's left; successive labels step down so that close markers stay readable.
    const onLeft = xPx > MARGIN.left + plotWidth * 0.8
    const labelY = plotsTop + 14 + 14 * (index % 4)
    out.push(`<g class="marker" data-x="${marker.x}">`)
    out.push(`<line x1="${f(xPx)}" y1="${plotsTop}" x2="${f(xPx)}" y2="${plotsBottom}" stroke="${escapeXml(marker.color)}" stroke-width="1.5" stroke-dasharray="6 4"/>`)
    out.push(`<text x="${f(xPx + (onLeft ? -4 : 4))}" y="${labelY}" text-anchor="${onLeft ? 'end' : 'start'}" fill="${escapeXml(marker.color)}">${escapeXml(marker.label)}</text>`)
    out.push('</g>')
  })
  out.push(`<text x="${MARGIN.left + plotWidth / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`)
  out.push('</svg>')
  return out.join('\n') + '\n'
}
