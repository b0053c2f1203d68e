// formatBytes writes a byte count in binary units: 1.5 GiB.
export function formatBytes(n: number | undefined): string {
  if (n === undefined || n === null) return '—'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let v = n
  let i = 0
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return (i === 0 ? String(v) : v.toFixed(v >= 100 ? 0 : 1)) + ' ' + units[i]
}

export function formatNumber(n: number | undefined, locale: string): string {
  if (n === undefined || n === null) return '—'
  return new Intl.NumberFormat(locale).format(n)
}

export function formatTime(s: string | undefined, locale: string): string {
  if (!s) return '—'
  const d = new Date(s)
  if (Number.isNaN(d.getTime())) return s
  return d.toLocaleString(locale, { hour12: false })
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || ms === null) return '—'
  if (ms < 1000) return ms + ' ms'
  const s = ms / 1000
  if (s < 60) return s.toFixed(1) + ' s'
  const m = Math.floor(s / 60)
  return m + ' min ' + Math.round(s - m * 60) + ' s'
}
