import type { Level, LogEntry } from './api/types'

// filterLogs keeps the entries of the chosen levels whose message, step or SQL contains the
// search text (case-insensitive). An empty search keeps every entry of those levels.
export function filterLogs(logs: LogEntry[], shown: Level[], search: string): LogEntry[] {
  const q = search.trim().toLowerCase()
  return logs.filter((e) => {
    if (!shown.includes(e.level)) return false
    if (q === '') return true
    return [e.message, e.step ?? '', e.sql ?? ''].some((s) => s.toLowerCase().includes(q))
  })
}
