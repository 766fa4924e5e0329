// Where the k6 scripts live and what the tests know about them: paths, the
// route catalogue k6/lib/routes.js (plain JS, loadable in Node), and matching
// a request against the server's OpenAPI document.
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** The repository root (this file runs as dist/test/k6/k6-project.js). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
export const K6_DIR = join(REPO_ROOT, 'k6')
export const SCRIPTS = ['ingest', 'drain', 'mixed', 'kv'] as const
export type ScriptName = (typeof SCRIPTS)[number]

export function scriptPath(script: ScriptName): string {
  return join(K6_DIR, `${script}.js`)
}

export interface K6Route {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE'
  pattern: string
  tag: string
}

export async function loadK6Routes(): Promise<Record<string, K6Route>> {
  const module = (await import(pathToFileURL(join(K6_DIR, 'lib', 'routes.js')).href)) as { ROUTES: Record<string, K6Route> }
  return module.ROUTES
}

export interface OpenApiPaths {
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
}

/** The OpenAPI path template a request path falls under (`{name}` one segment, `{key}` the rest), or undefined. */
export function openApiPathOf(doc: OpenApiPaths, method: string, path: string): string | undefined {
  for (const [template, operations] of Object.entries(doc.paths)) {
    if (operations[method.toLowerCase()] === undefined) continue
    const pattern = template
      .split(/(\{name\}|\{key\})/)
      .map((part) => (part === '{name}' ? '[^/]+' : part === '{key}' ? '.+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
      .join('')
    if (new RegExp(`^${pattern}$`).test(path)) return template
  }
  return undefined
}
