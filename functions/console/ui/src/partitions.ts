// parsePartitions reads partition specs, one a line, as dt=2024-01-01/hr=00. It returns the
// specs, or the 1-based number of the first line that is not one. The server validates
// names and values again; this only catches typing mistakes early.
export function parsePartitions(text: string): { specs: Record<string, string>[] } | { badLine: number } {
  const specs: Record<string, string>[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim()
    if (line === '') continue
    const spec: Record<string, string> = {}
    for (const part of line.split('/')) {
      const eq = part.indexOf('=')
      const key = part.slice(0, eq).trim()
      const value = part.slice(eq + 1).trim()
      if (eq <= 0 || !/^[A-Za-z0-9_]+$/.test(key) || value === '' || key in spec) return { badLine: i + 1 }
      spec[key] = value
    }
    specs.push(spec)
  }
  return { specs }
}

export function formatSpec(spec: Record<string, string>): string {
  return Object.entries(spec)
    .map(([k, v]) => k + '=' + v)
    .join('/')
}

// specOfName turns Hive's escaped partition name (dt=2024-01-01/country=FR%2FBE) into a spec.
// Hive escapes / = % and other characters in names and values as %XX.
export function specOfName(name: string): Record<string, string> {
  const spec: Record<string, string> = {}
  for (const part of name.split('/')) {
    const eq = part.indexOf('=')
    if (eq <= 0) continue
    spec[unescape(part.slice(0, eq))] = unescape(part.slice(eq + 1))
  }
  return spec
}

function unescape(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
}
