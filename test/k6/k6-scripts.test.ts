// The k6 scripts without k6: they type-check against @types/k6 (and the
// check can fail), each has the shape k6 needs (options with scenarios and
// thresholds, setup, a default function, every scenario's exec exported),
// reads BASE_URL and TOKEN from __ENV, imports only k6 modules and its own
// files, and every route it can call is in the server's OpenAPI document.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import ts from 'typescript'
import { call, startTestNode, startTestServer } from '../http/helpers.js'
import { K6_DIR, loadK6Routes, openApiPathOf, REPO_ROOT, SCRIPTS, scriptPath, type OpenApiPaths } from './k6-project.js'

const run = promisify(execFile)
const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
const TSC_TIMEOUT_MS = 60_000

/** Modules k6 itself provides (its documented JavaScript API); anything else would fail to load in k6. */
// (`k6/options` is types only: JSDoc may name it, an import may not.)
const K6_MODULES = new Set(['k6', 'k6/http', 'k6/metrics', 'k6/execution', 'k6/encoding', 'k6/crypto', 'k6/data', 'k6/timers'])

async function typeCheck(project: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [TSC, '-p', project], { cwd: REPO_ROOT, timeout: TSC_TIMEOUT_MS })
    return { code: 0, output: stdout + stderr }
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string }
    return { code: typeof failed.code === 'number' ? failed.code : -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` }
  }
}

/** A project with one deliberately wrong script under the same compiler options (`extends`). */
async function wrongProject(): Promise<{ dir: string; project: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-k6-tsc-'))
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ extends: join(K6_DIR, 'tsconfig.json'), include: ['*.js'] }))
  await writeFile(
    join(dir, 'wrong.js'),
    [
      '// @ts-check',
      "import http from 'k6/http'",
      '',
      'export default function () {',
      '  http.get(42)',
      '  return process.env.BASE_URL',
      '}',
      '',
      "/** @type {import('k6/options').Options} */",
      "export const options = { scenarios: { load: { executor: 'constant-vu', duration: '1s' } } }",
      '',
    ].join('\n'),
  )
  return { dir, project: join(dir, 'tsconfig.json') }
}

// Both compilations start at once (a few seconds of CPU each); the tests await them.
const scriptsChecked = typeCheck(join(K6_DIR, 'tsconfig.json'))
const wrongChecked = wrongProject().then(async ({ dir, project }) => ({ dir, ...(await typeCheck(project)) }))

t.test('the scripts type-check against @types/k6 with k6/tsconfig.json', async (t) => {
  const { code, output } = await scriptsChecked
  t.equal(code, 0, `tsc -p k6/tsconfig.json:\n${output}`)
  t.equal(output.trim(), '', 'no diagnostics')
})

t.test('negative control: the same compiler options reject a wrong k6 call and a Node global', async (t) => {
  const { dir, code, output } = await wrongChecked
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  t.not(code, 0, 'tsc fails')
  t.match(output, /wrong\.js\(5,12\): error TS2345/, 'http.get with a number is refused')
  t.match(output, /wrong\.js\(6,10\): error TS\d+: Cannot find name 'process'/, 'Node globals do not exist in k6')
  t.match(output, /wrong\.js\(10,\d+\): error TS\d+: Type '"constant-vu"' is not assignable/, 'an executor k6 does not have is refused')
})

t.test('the root tsconfig.json leaves k6/ to its own config', async (t) => {
  const root = ts.parseConfigFileTextToJson('tsconfig.json', await readFile(join(REPO_ROOT, 'tsconfig.json'), 'utf8')).config as { include: string[] }
  t.same(
    root.include.filter((pattern) => pattern.startsWith('k6')),
    [],
  )
})

interface ScriptShape {
  exportedFunctions: Set<string>
  hasDefault: boolean
  optionsProperties: Set<string>
  scenarioExecs: string[]
  imports: string[]
}

function parse(file: string, text: string): ts.SourceFile {
  return ts.createSourceFile(file, text, ts.ScriptTarget.ES2020, true, ts.ScriptKind.JS)
}

function isExported(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
}

function isDefault(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.DefaultKeyword)
}

function shapeOf(source: ts.SourceFile): ScriptShape {
  const shape: ScriptShape = { exportedFunctions: new Set(), hasDefault: false, optionsProperties: new Set(), scenarioExecs: [], imports: [] }
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) shape.imports.push(statement.moduleSpecifier.text)
    if (ts.isFunctionDeclaration(statement) && isExported(statement)) {
      if (isDefault(statement)) shape.hasDefault = true
      else if (statement.name !== undefined) shape.exportedFunctions.add(statement.name.text)
    }
    if (ts.isVariableStatement(statement) && isExported(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (!ts.isIdentifier(declaration.name) || declaration.name.text !== 'options') continue
        if (declaration.initializer === undefined || !ts.isObjectLiteralExpression(declaration.initializer)) continue
        for (const property of declaration.initializer.properties) {
          if (!ts.isPropertyAssignment(property) || !ts.isIdentifier(property.name)) continue
          shape.optionsProperties.add(property.name.text)
          if (property.name.text === 'scenarios') collectExecs(property.initializer, shape.scenarioExecs)
        }
      }
    }
  }
  return shape
}

/** Every `exec: '...'` under a node (scenarios are literals or built by loadScenario({ exec, ... })). */
function collectExecs(node: ts.Node, into: string[]): void {
  if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && node.name.text === 'exec' && ts.isStringLiteral(node.initializer)) into.push(node.initializer.text)
  ts.forEachChild(node, (child) => collectExecs(child, into))
}

/** The script and every file it imports by relative path, parsed. */
async function importClosure(entry: string): Promise<Map<string, ts.SourceFile>> {
  const files = new Map<string, ts.SourceFile>()
  const pending = [entry]
  while (pending.length > 0 && files.size < 100) {
    const file = pending.pop()!
    if (files.has(file)) continue
    const source = parse(file, await readFile(file, 'utf8'))
    files.set(file, source)
    for (const statement of source.statements) {
      if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier) && statement.moduleSpecifier.text.startsWith('.')) {
        pending.push(resolve(dirname(file), statement.moduleSpecifier.text))
      }
    }
  }
  return files
}

/** String literals and template parts that spell an API path: only lib/routes.js may. */
function apiPathLiterals(source: ts.SourceFile): string[] {
  const found: string[] = []
  const visit = (node: ts.Node): void => {
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) && node.text.includes('/v1/')) {
      found.push(node.text)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

/** `__ENV.NAME` reads in a file. */
function envReads(source: ts.SourceFile): Set<string> {
  const names = new Set<string>()
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === '__ENV') names.add(node.name.text)
    ts.forEachChild(node, visit)
  }
  visit(source)
  return names
}

for (const script of SCRIPTS) {
  t.test(`${script}.js: options with scenarios and thresholds, setup, a default function, exported execs, BASE_URL and TOKEN from __ENV`, async (t) => {
    const closure = await importClosure(scriptPath(script))
    const shape = shapeOf(closure.get(scriptPath(script))!)
    t.ok(shape.optionsProperties.has('scenarios'), 'options.scenarios')
    t.ok(shape.optionsProperties.has('thresholds'), 'options.thresholds')
    t.ok(shape.exportedFunctions.has('setup'), 'export function setup')
    t.ok(shape.hasDefault, 'export default function')
    t.ok(shape.scenarioExecs.length >= 1, 'scenarios name their exec functions')
    for (const exec of shape.scenarioExecs) t.ok(exec === 'default' ? shape.hasDefault : shape.exportedFunctions.has(exec), `exec '${exec}' is exported`)
    const reads = new Set([...closure.values()].flatMap((source) => [...envReads(source)]))
    t.ok(reads.has('BASE_URL'), '__ENV.BASE_URL is read')
    t.ok(reads.has('TOKEN'), '__ENV.TOKEN is read')
    const routesFile = join(K6_DIR, 'lib', 'routes.js')
    t.ok(closure.has(routesFile), 'the script calls the API through lib/routes.js')
    t.ok(apiPathLiterals(closure.get(routesFile)!).length >= 5, 'the detector sees the paths spelled in lib/routes.js')
    for (const [file, source] of closure) {
      if (file !== routesFile) t.same(apiPathLiterals(source), [], `${file.slice(K6_DIR.length + 1)} spells no API path of its own`)
    }
    for (const source of closure.values()) {
      for (const specifier of shapeOf(source).imports) {
        t.ok(specifier.startsWith('./') || specifier.startsWith('../') || K6_MODULES.has(specifier), `${source.fileName.slice(K6_DIR.length + 1)} imports '${specifier}', which k6 can load`)
      }
    }
  })
}

t.test('every route the scripts call is in the OpenAPI document the server serves', async (t) => {
  const { node, close } = await startTestNode()
  const { server, base } = await startTestServer(node)
  t.teardown(async () => {
    await server.close()
    await close()
  })
  const doc = (await call(base, 'GET', '/openapi.json')).json as OpenApiPaths
  const routes = await loadK6Routes()
  t.ok(Object.keys(routes).length >= 10, 'the catalogue lists the routes')
  for (const [name, route] of Object.entries(routes)) {
    t.ok(doc.paths[route.pattern]?.[route.method.toLowerCase()], `ROUTES.${name}: ${route.method} ${route.pattern}`)
  }
  const tags = Object.values(routes).map((route) => route.tag)
  t.equal(new Set(tags).size, tags.length, 'tags are unique, so a threshold names one kind of request')

  // The matcher used here and in the run test can fail: a renamed route or a wrong method is not found.
  t.equal(openApiPathOf(doc, 'POST', '/v1/queues/q1/messages'), '/v1/queues/{name}/messages')
  t.equal(openApiPathOf(doc, 'GET', '/v1/kv/a%2Fb'), '/v1/kv/{key}')
  t.equal(openApiPathOf(doc, 'POST', '/v1/queue/q1/messages'), undefined)
  t.equal(openApiPathOf(doc, 'PATCH', '/v1/queues/q1'), undefined)
})
