import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import catalog from '../src/messages.json'
import en from '../src/locales/en.json'
import zhCN from '../src/locales/zh-CN.json'
import { render, verbs, type Message } from '../src/messages'

// The Go tests write the API's message catalog to src/messages.json: a code the API can send
// without a translation here fails this test, not a Chinese screen.
const locales = { en, 'zh-CN': zhCN } as Record<string, { reasons: Record<string, string>; reasonUnits: Record<string, string> }>
const names = (s: string) => [...s.matchAll(/\{(\w+)/g)].map((m) => m[1]).sort()

describe('the API message catalog', () => {
  for (const [locale, messages] of Object.entries(locales)) {
    it(`${locale} translates every code with the same arguments`, () => {
      const missing = Object.keys(catalog).filter((code) => !messages.reasons[code]?.trim())
      expect(missing).toEqual([])
      const wrong = Object.entries(catalog as Record<string, string>)
        .filter(([code, tmpl]) => names(tmpl).join() !== names(messages.reasons[code] ?? '').join())
        .map(([code]) => code)
      expect(wrong).toEqual([])
      expect(Object.keys(messages.reasons).filter((code) => !(code in catalog))).toEqual([])
    })

    it(`${locale} names every counted word`, () => {
      const words = new Set(Object.values(verbs).flatMap((v) => Object.values(v).filter((x) => x.startsWith('plural:')).map((x) => x.slice(7))))
      expect([...words].filter((w) => !messages.reasonUnits[w])).toEqual([])
    })
  }
})

function sayIn(locale: string, m: Message): string {
  const i18n = createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: { en, 'zh-CN': zhCN } })
  const g = i18n.global
  return render(m, g.t as never, (k) => g.te(k), locale)
}

describe('render', () => {
  const needsMerge: Message = {
    code: 'needs-merge',
    args: { files: 8, avg_bytes: 296, files_after: 1, bytes_after: 2374 },
    text: '8 files averaging 296 B merge into 1 file of about 2.4 kB',
  }
  it.each([
    ['translates with the UI formats', 'zh-CN', needsMerge, '8 个文件，平均 296 B，合并为 1 个文件，每个约 2.3 KiB'],
    ['counts in English', 'en', needsMerge, '8 files averaging 296 B merge into 1 file of about 2.3 KiB'],
    ['plural in English', 'en', { code: 'healthy', args: { files: 3, bytes: 1536, files_after: 1 } }, '3 files of 1.5 KiB need no merge: target-sized files would still be 1'],
    ['thousands, rounding', 'zh-CN', { code: 'health-small-files', args: { small: 2431, files: 2480, small_bytes: 16000000, percent: 98.02, penalty: 39.2 } },
      '2,480 个文件中有 2,431 个小于 15.3 MiB（98%）：-39'],
    ['nested messages', 'zh-CN', { code: 'do-not-merge', args: { reason: { code: 'view', text: 'a view ...' } }, text: 'do not merge: a view ...' },
      '不建议合并：视图没有自己的文件：请合并它所读取的表'],
    ['durations', 'zh-CN', { code: 'skip-quiet-period', args: { age: 90, quiet: 7200 } }, '写入于 1 min 30 s 前，仍在 2 h 的静默期内'],
    ['an unknown code shows the English', 'zh-CN', { code: 'new-rule', args: { x: 1 }, text: 'a new rule' }, 'a new rule'],
    ['no code shows the English', 'zh-CN', { text: 'stored before codes' }, 'stored before codes'],
  ])('%s', (_, locale, m, want) => {
    expect(sayIn(locale as string, m as Message)).toBe(want)
  })
})

describe('errorText', () => {
  it.each([
    [
      "a refusal's reason, translated",
      'zh-CN',
      [400, 'invalid_argument', 'a view has no files of its own: merge the tables it reads instead', { code: 'view', text: 'a view ...' }],
      '请求无效：视图没有自己的文件：请合并它所读取的表',
    ],
    ['a conflict: Chinese first, the API text as detail', 'zh-CN', [409, 'conflict', 'active task t1 already targets ops.events'], '请求与当前状态冲突：active task t1 already targets ops.events'],
    ['a full cluster', 'zh-CN', [429, 'busy', 'cluster demo runs 2 tasks, its limit'], '集群运行的任务已达上限，请稍后重试：cluster demo runs 2 tasks, its limit'],
    ['a missing task', 'zh-CN', [404, 'not_found', 'task t9 not found'], '未找到：task t9 not found'],
    ['an unavailable backend', 'zh-CN', [503, 'unavailable', 'a backend is unavailable; retry later'], '后端服务暂不可用，请稍后重试：a backend is unavailable; retry later'],
    ['English does not repeat a generic message', 'en', [404, 'not_found', 'not found'], 'Not found'],
    ['English', 'en', [409, 'conflict', 'active task t1 already targets ops.events'], 'The request conflicts with the current state: active task t1 already targets ops.events'],
    ['an unknown code keeps the API text', 'zh-CN', [502, 'http_502', 'Bad Gateway'], 'Bad Gateway'],
  ])('%s', async (_, locale, args, want) => {
    const { ApiError } = await import('../src/api/client')
    const { errorText } = await import('../src/api/errors')
    const { i18n } = await import('../src/i18n')
    i18n.global.locale.value = locale as 'en'
    const [status, code, message, reason] = args as [number, string, string, Message | undefined]
    expect(errorText(new ApiError(status, code, message, reason), i18n.global.t as never)).toBe(want)
  })
})
