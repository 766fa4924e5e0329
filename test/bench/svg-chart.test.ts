// The SVG writer: a well-formed XML document, every drawn point inside the
// viewBox and scaled in order, the event markers drawn with their labels,
// and text escaped.
import t from 'tap'
import { failoverChart } from '../../bench/load/failover-chart.js'
import type { SecondFigures } from '../../bench/load/second-buckets.js'
import { niceCeiling, renderStackedChart, ticks } from '../../bench/load/svg-chart.js'

interface Element {
  name: string
  attributes: Map<string, string>
  children: Element[]
  text: string
}

const ENTITY = /&(?:lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g

/** A strict little XML parser: throws on anything not well-formed (enough for what the writer emits and more). */
function parseXml(xml: string): Element {
  let rest = xml.replace(/^<\?xml [^?]*\?>\s*/, '')
  const root: Element = { name: '#document', attributes: new Map(), children: [], text: '' }
  const stack: Element[] = [root]
  const checkText = (text: string) => {
    if (text.replace(ENTITY, '').includes('&')) throw new Error(`bad entity in ${JSON.stringify(text.slice(0, 40))}`)
  }
  while (rest.length > 0) {
    const open = rest.indexOf('<')
    const text = open === -1 ? rest : rest.slice(0, open)
    checkText(text)
    stack[stack.length - 1]!.text += text
    if (open === -1) break
    const close = rest.indexOf('>', open)
    if (close === -1) throw new Error('unterminated tag')
    const tag = rest.slice(open + 1, close)
    rest = rest.slice(close + 1)
    if (tag.startsWith('/')) {
      const top = stack.pop()
      if (top === undefined || top.name !== tag.slice(1)) throw new Error(`</${tag.slice(1)}> closes <${top?.name}>`)
      continue
    }
    const selfClosing = tag.endsWith('/')
    const body = selfClosing ? tag.slice(0, -1) : tag
    const name = /^[A-Za-z_][-\w.:]*/.exec(body)?.[0]
    if (name === undefined) throw new Error(`bad tag <${tag}>`)
    const attributes = new Map<string, string>()
    let attrs = body.slice(name.length)
    const attr = /^\s+([A-Za-z_:][-\w.:]*)="([^"<]*)"/
    for (let m = attr.exec(attrs); m !== null; m = attr.exec(attrs)) {
      if (attributes.has(m[1]!)) throw new Error(`duplicate attribute ${m[1]}`)
      checkText(m[2]!)
      attributes.set(m[1]!, m[2]!)
      attrs = attrs.slice(m[0].length)
    }
    if (attrs.trim() !== '') throw new Error(`bad attributes in <${tag}>`)
    const element: Element = { name, attributes, children: [], text: '' }
    const parent = stack[stack.length - 1]!
    if (parent === root && root.children.length > 0) throw new Error('more than one root element')
    parent.children.push(element)
    if (!selfClosing) stack.push(element)
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`)
  if (root.children.length !== 1) throw new Error('no root element')
  return root.children[0]!
}

function all(element: Element, predicate: (e: Element) => boolean): Element[] {
  return [...(predicate(element) ? [element] : []), ...element.children.flatMap((child) => all(child, predicate))]
}

function series(values: number[]): SecondFigures[] {
  return values.map((ops, second) => ({ second, ops, items: ops, errors: ops === 0 ? 7 : 0, dropped: 0, p50Ms: ops ? 2 : 0, p99Ms: ops ? 10 + second : 0, maxMs: ops ? 30 : 0 }))
}

t.test('the parser used here rejects what is not well-formed', async (t) => {
  t.throws(() => parseXml('<a><b></a></b>'))
  t.throws(() => parseXml('<a x="1" x="2"/>'))
  t.throws(() => parseXml('<a>fish & chips</a>'))
  t.throws(() => parseXml('<a>'))
  t.throws(() => parseXml('<a/><b/>'))
  t.equal(parseXml('<a x="&amp;"><b/>t &lt; u</a>').name, 'a')
})

t.test('the failover chart is well-formed SVG with both markers and every point inside the viewBox', async (t) => {
  const data = series([900, 1000, 950, 1010, 200, 0, 0, 700, 980, 1000, 990, 1005])
  const svg = failoverChart(data, { killAtSec: 4.2, victimId: 2, restartAtSec: 8.1, readyAtSec: 9.4 }, 'ingest <http> & friends')
  const root = parseXml(svg)
  t.equal(root.name, 'svg')
  t.equal(root.attributes.get('xmlns'), 'http://www.w3.org/2000/svg')
  const [minX, minY, width, height] = root.attributes.get('viewBox')!.split(' ').map(Number) as [number, number, number, number]
  t.same([minX, minY], [0, 0])
  const inside = (x: number, y: number) => x >= 0 && x <= width && y >= 0 && y <= height

  const markers = all(root, (e) => e.attributes.get('class') === 'marker')
  t.same(markers.map((m) => m.attributes.get('data-x')), ['4.2', '8.1', '9.4'], 'kill, restart and ready markers')
  t.same(markers.map((m) => m.children.find((c) => c.name === 'text')?.text), ['SIGKILL node 2', 'restart node 2', 'ready'])
  const markerX = markers.map((m) => Number(m.children.find((c) => c.name === 'line')!.attributes.get('x1')))
  t.ok(markerX[0]! < markerX[1]! && markerX[1]! < markerX[2]!, 'markers in time order along x')

  const lines = all(root, (e) => e.name === 'polyline')
  t.same(lines.map((l) => l.attributes.get('data-label')), ['acknowledged ops/s', 'errors/s', 'p99 of the second'])
  for (const line of lines) {
    const points = line.attributes.get('points')!.split(' ').map((p) => p.split(',').map(Number) as [number, number])
    t.ok(points.length > 0 && points.every(([x, y]) => inside(x, y)), `${line.attributes.get('data-label')}: ${points.length} points inside the viewBox`)
    t.ok(points.every((p, i) => i === 0 || p[0] > points[i - 1]![0]), 'x increases with time')
  }
  const ops = lines[0]!.attributes.get('points')!.split(' ').map((p) => p.split(',').map(Number) as [number, number])
  t.equal(ops.length, 12)
  t.ok(ops[3]![1] < ops[4]![1] && ops[4]![1] < ops[5]![1], 'higher throughput is drawn higher (smaller y)')
  t.equal(ops[5]![1], ops[6]![1], 'equal values at equal height')
  const p99 = lines[2]!.attributes.get('points')!.split(' ')
  t.equal(p99.length, 10, 'seconds without an answer have no p99 point')
  for (const el of all(root, (e) => e.name === 'line')) {
    const [x1, y1, x2, y2] = ['x1', 'y1', 'x2', 'y2'].map((a) => Number(el.attributes.get(a)))
    t.ok(inside(x1!, y1!) && inside(x2!, y2!), 'axis, grid and marker lines inside the viewBox') || t.comment(JSON.stringify([x1, y1, x2, y2]))
  }
  t.ok(svg.includes('ingest &lt;http&gt; &amp; friends'), 'text is escaped')
})

t.test('values beyond the axes are clamped into the plot', async (t) => {
  const svg = renderStackedChart({
    title: 't',
    xLabel: 'x',
    xMax: 10,
    panels: [{ title: 'p', yLabel: 'y', lines: [{ label: 'l', color: '#000', points: [[-5, -3], [5, 1e9], [50, 2], [3, Number.NaN]] }] }],
    markers: [{ x: 99, label: 'late', color: '#f00' }],
  })
  const root = parseXml(svg)
  const [, , width, height] = root.attributes.get('viewBox')!.split(' ').map(Number) as number[]
  const points = all(root, (e) => e.name === 'polyline')[0]!.attributes.get('points')!.split(' ').map((p) => p.split(',').map(Number))
  t.equal(points.length, 3, 'the NaN point is skipped')
  t.ok(points.every(([x, y]) => x! >= 0 && x! <= width! && y! >= 0 && y! <= height!))
})

t.test('axis ticks are round numbers that cover the data', async (t) => {
  t.equal(niceCeiling(0), 1)
  t.equal(niceCeiling(1), 1)
  t.equal(niceCeiling(1.01), 2)
  t.equal(niceCeiling(3), 5)
  t.equal(niceCeiling(730), 1000)
  t.same(ticks(1000, 5), [0, 200, 400, 600, 800, 1000])
  t.same(ticks(12, 10), [0, 2, 4, 6, 8, 10, 12])
  t.same(ticks(0.3, 5), [0, 0.1, 0.2, 0.3])
})
