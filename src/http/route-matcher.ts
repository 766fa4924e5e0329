// Matches a method and path against the route table. Patterns are split into
// segments once; `{key}` takes the rest of the path, any other `{param}`
// (`{name}`, `{id}`) one segment.
import { HttpError } from './http-error.js'
import type { HttpMethod, Route, RouteParams } from './route.js'

/** The parameters a pattern may name (see RouteParams). */
const ROUTE_PARAMS: readonly (keyof RouteParams)[] = ['name', 'key', 'id']

interface CompiledPattern {
  pattern: string
  segments: string[]
  routes: Map<string, Route>
}

export interface RouteMatch {
  route: Route
  params: RouteParams
}

export class RouteMatcher {
  private readonly patterns: CompiledPattern[] = []

  constructor(routes: readonly Route[]) {
    for (const route of routes) {
      let compiled = this.patterns.find((p) => p.pattern === route.pattern)
      if (compiled === undefined) {
        const segments = route.pattern.split('/').slice(1)
        const unknown = segments.find((segment) => segment.startsWith('{') && !ROUTE_PARAMS.includes(segment.slice(1, -1) as keyof RouteParams))
        if (unknown !== undefined) throw new Error(`route ${route.pattern}: unknown parameter ${unknown}`)
        compiled = { pattern: route.pattern, segments, routes: new Map() }
        this.patterns.push(compiled)
      }
      if (compiled.routes.has(route.method)) throw new Error(`duplicate route ${route.method} ${route.pattern}`)
      compiled.routes.set(route.method, route)
    }
  }

  /** The route and its parameters; throws ROUTE_NOT_FOUND (404) or METHOD_NOT_ALLOWED (405). */
  match(method: string, path: string): RouteMatch {
    const segments = path.split('/').slice(1)
    for (const compiled of this.patterns) {
      const params = matchSegments(compiled.segments, segments)
      if (params === undefined) continue
      const route = compiled.routes.get(method as HttpMethod)
      if (route === undefined) {
        throw new HttpError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${compiled.pattern}; allowed: ${[...compiled.routes.keys()].join(', ')}`)
      }
      return { route, params }
    }
    throw new HttpError('ROUTE_NOT_FOUND', `no route for ${path}`)
  }
}

function matchSegments(pattern: string[], path: string[]): RouteParams | undefined {
  const params: RouteParams = {}
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i]!
    if (expected === '{key}') {
      if (i >= path.length) return undefined
      const raw = path.slice(i).join('/')
      if (raw === '') return undefined
      params.key = decode(raw, 'key')
      return params
    }
    const actual = path[i]
    if (actual === undefined) return undefined
    if (expected.startsWith('{')) {
      if (actual === '') return undefined
      const field = expected.slice(1, -1) as keyof RouteParams
      params[field] = decode(actual, field)
    } else if (expected !== actual) return undefined
  }
  return path.length === pattern.length ? params : undefined
}

function decode(raw: string, field: string): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    throw new HttpError('INVALID_ARGUMENT', `the ${field} in the path is not valid URL encoding`, { field })
  }
}
