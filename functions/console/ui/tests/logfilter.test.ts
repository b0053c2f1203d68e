import { describe, expect, it } from 'vitest'
import type { LogEntry } from '../src/api/types'
import { filterLogs } from '../src/logfilter'

const logs: LogEntry[] = [
  { seq: 1, time: '2026-01-01T00:00:00Z', level: 'debug', message: 'lease renewed' },
  { seq: 2, time: '2026-01-01T00:00:01Z', level: 'info', step: 'plan', message: 'chose safe_merge' },
  { seq: 3, time: '2026-01-01T00:00:02Z', level: 'info', step: 'merge', message: 'writing', sql: 'INSERT OVERWRITE TABLE sales.orders_tmp SELECT * FROM sales.orders' },
  { seq: 4, time: '2026-01-01T00:00:03Z', level: 'warn', step: 'validate', message: 'Row COUNT differs' },
  { seq: 5, time: '2026-01-01T00:00:04Z', level: 'error', step: 'validate', message: 'aborted' },
]

describe('filterLogs', () => {
  const cases: { name: string; levels: LogEntry['level'][]; search: string; want: number[] }[] = [
    { name: 'levels only', levels: ['info', 'warn', 'error'], search: '', want: [2, 3, 4, 5] },
    { name: 'debug shown', levels: ['debug'], search: '', want: [1] },
    { name: 'no level', levels: [], search: '', want: [] },
    { name: 'message, any case', levels: ['debug', 'info', 'warn', 'error'], search: 'row count', want: [4] },
    { name: 'step', levels: ['debug', 'info', 'warn', 'error'], search: 'validate', want: [4, 5] },
    { name: 'SQL', levels: ['info'], search: 'insert overwrite', want: [3] },
    { name: 'search within levels', levels: ['warn'], search: 'validate', want: [4] },
    { name: 'blank search', levels: ['error'], search: '   ', want: [5] },
    { name: 'no match', levels: ['info'], search: 'nothing like this', want: [] },
  ]
  for (const c of cases) {
    it(c.name, () => {
      expect(filterLogs(logs, c.levels, c.search).map((e) => e.seq)).toEqual(c.want)
    })
  }
})
