/** What differs between the configs of some runs: flattened keys whose values are not all equal. */
export interface ConfigDiffRow {
  key: string
  values: string[]
}

function flatten(value: unknown, prefix: string, out: Record<string, string>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out)
  } else {
    out[prefix] = JSON.stringify(value) ?? 'undefined'
  }
}

export function configDiff(configs: readonly unknown[]): ConfigDiffRow[] {
  const flat = configs.map((c) => {
    const out: Record<string, string> = {}
    flatten(c, '', out)
    return out
  })
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort()
  return keys
    .map((key) => ({ key, values: flat.map((f) => f[key] ?? '—') }))
    .filter((row) => new Set(row.values).size > 1)
}
