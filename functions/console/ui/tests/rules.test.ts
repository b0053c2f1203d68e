import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import rules from '../src/rules.json'
import en from '../src/locales/en.json'
import zhCN from '../src/locales/zh-CN.json'
import { ruleLabel, stepLabel } from '../src/messages'

// The Go tests write shared/merge's rule ids to src/rules.json: a rule the planner can record
// as a task's strategy_reason without a label here fails this test, not a Chinese screen.
describe('rule labels', () => {
  for (const [locale, messages] of Object.entries({ en, 'zh-CN': zhCN })) {
    it(`${locale} names every rule id`, () => {
      const labels = messages.rules as Record<string, string>
      expect(rules.length).toBeGreaterThan(20)
      expect(rules.filter((id) => !labels[id]?.trim())).toEqual([])
      expect(Object.keys(labels).filter((id) => !rules.includes(id))).toEqual([])
    })
  }

  const g = createI18n({ legacy: false, locale: 'zh-CN', fallbackLocale: 'en', messages: { en, 'zh-CN': zhCN } }).global
  it.each([
    ['a known rule', 'auto-rewrite', '自动：重写到新位置'],
    ['requested', 'requested', '按请求的策略'],
    ['an unknown id stays as it is', 'some-new-rule', 'some-new-rule'],
    ['none', undefined, ''],
  ])('%s', (_, id, want) => {
    expect(ruleLabel(id, g.t as never, (k) => g.te(k))).toBe(want)
  })
})

describe('stepLabel', () => {
  const g = createI18n({ legacy: false, locale: 'zh-CN', fallbackLocale: 'en', messages: { en, 'zh-CN': zhCN } }).global
  it.each([
    ['a task step', 'planned', '已规划'],
    ["an unpartitioned table's step", '(table): done', '整张表: 完成'],
    ["a partition's step", 'dt=2026-01-01/hr=00: rolled_back', 'dt=2026-01-01/hr=00: 已回滚'],
    ['an unknown step stays as it is', 'dt=1: compacting', 'dt=1: compacting'],
    ['none', undefined, ''],
  ])('%s', (_, step, want) => {
    expect(stepLabel(step, g.t as never, (k) => g.te(k))).toBe(want)
  })
})
