// Module resolution hook of the shim: `k6`, `k6/http`, `k6/metrics` and
// `k6/execution` resolve to the shim modules beside this file; a k6 module
// the shim does not provide fails the import loudly.
const SHIMS: Record<string, string> = {
  k6: './k6.js',
  'k6/http': './k6-http.js',
  'k6/metrics': './k6-metrics.js',
  'k6/execution': './k6-execution.js',
}

interface ResolveResult {
  url: string
  shortCircuit?: boolean
  format?: string | null
}

export async function resolve(
  specifier: string,
  context: { parentURL?: string | undefined },
  nextResolve: (specifier: string, context: { parentURL?: string | undefined }) => Promise<ResolveResult>,
): Promise<ResolveResult> {
  if (specifier === 'k6' || specifier.startsWith('k6/')) {
    const shim = SHIMS[specifier]
    if (shim === undefined) throw new Error(`the k6 shim does not provide '${specifier}'`)
    return { url: new URL(shim, import.meta.url).href, shortCircuit: true, format: 'module' }
  }
  return nextResolve(specifier, context)
}
