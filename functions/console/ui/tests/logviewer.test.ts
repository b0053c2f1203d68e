import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { i18n } from '../src/i18n'
import LogViewer from '../src/components/LogViewer.vue'
import type { LogEntry } from '../src/api/types'

const logs: LogEntry[] = [
  { seq: 1, time: '2026-01-01T00:00:00Z', level: 'debug', message: 'lease renewed' },
  { seq: 2, time: '2026-01-01T00:00:01Z', level: 'info', step: 'merge', message: 'writing', sql: 'INSERT OVERWRITE TABLE t SELECT * FROM s' },
  { seq: 3, time: '2026-01-01T00:00:02Z', level: 'error', step: 'validate', message: 'aborted' },
]

describe('LogViewer', () => {
  it('hides debug by default, shows SQL with a copy button, and filters by search', async () => {
    i18n.global.locale.value = 'en'
    const w = mount(LogViewer, { props: { logs }, global: { plugins: [i18n] } })
    expect(w.findAll('[data-test="log-entry"]').map((e) => e.attributes('data-level'))).toEqual(['info', 'error'])
    expect(w.find('pre').text()).toBe('INSERT OVERWRITE TABLE t SELECT * FROM s')
    expect(w.findAll('[data-test="copy-sql"]')).toHaveLength(1)
    expect(w.text()).toContain('2 of 3 entries')

    await w.find('input[data-test="log-search"], [data-test="log-search"] input').setValue('validate')
    expect(w.findAll('[data-test="log-entry"]').map((e) => e.attributes('data-level'))).toEqual(['error'])

    await w.find('input[data-test="log-search"], [data-test="log-search"] input').setValue('no such thing')
    expect(w.findAll('[data-test="log-entry"]')).toHaveLength(0)
    expect(w.text()).toContain('No entry matches')
  })
})
