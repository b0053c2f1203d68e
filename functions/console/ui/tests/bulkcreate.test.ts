import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '../src/i18n'
import { signIn } from '../src/api/token'
import BulkCreate from '../src/components/BulkCreate.vue'

// The network answers as the API does for each table: created, a conflict with the table's
// active task, refused for a reason. The real API's answers are in the e2e tests.
const answers: Record<string, [number, unknown]> = {
  orders: [201, { id: 't-1', status: 'pending' }],
  clicks: [409, { error: { code: 'conflict', message: 'task t-0 is active on web.clicks' } }],
  views: [400, { error: { code: 'invalid_argument', message: 'web.views is a view: nothing to merge' } }],
}

const tables = ['orders', 'clicks', 'views'].map((table_name) => ({ cluster_id: 'demo', database_name: 'web', table_name }))
let sent: { url: string; method: string; body: Record<string, unknown> }[]

beforeEach(() => {
  sent = []
  signIn('token')
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    const body = init.body ? JSON.parse(String(init.body)) : {}
    sent.push({ url: String(url), method: init.method ?? 'GET', body })
    const [status, answer] = String(url).endsWith('/execute') ? [200, { id: 't-1', status: 'running' }] : answers[body.table_name]
    return new Response(JSON.stringify(answer), { status, headers: { 'Content-Type': 'application/json' } })
  })
})
afterEach(() => vi.unstubAllGlobals())

async function run(execute: boolean, locale = 'en') {
  i18n.global.locale.value = locale as 'en'
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:p(.*)*', component: { template: '<div/>' } }] })
  const w = mount(BulkCreate, { props: { modelValue: true, tables }, global: { plugins: [i18n, router] }, attachTo: document.body })
  await flushPromises()
  if (execute) (document.querySelector('[data-test="bulk-execute"] input') as HTMLInputElement).click()
  await flushPromises()
  ;(document.querySelector('[data-test="bulk-submit"]') as HTMLButtonElement).click()
  await flushPromises()
  const results = [...document.querySelectorAll('[data-test="bulk-result"]')].map((e) => e.getAttribute('data-result'))
  const messages = [...document.querySelectorAll('[data-test="bulk-message"]')].map((e) => e.textContent)
  const text = document.body.textContent
  w.unmount()
  return { results, messages, text }
}

describe('BulkCreate', () => {
  it("creates a task per table, one after the other, and shows each outcome with the API's reason", async () => {
    const { results, messages } = await run(false)
    expect(results).toEqual(['created', 'conflict', 'refused'])
    expect(messages).toEqual(['task t-0 is active on web.clicks', 'web.views is a view: nothing to merge'])
    expect(sent.map((s) => [s.method, s.body.table_name])).toEqual([
      ['POST', 'orders'],
      ['POST', 'clicks'],
      ['POST', 'views'],
    ])
    expect(sent.every((s) => s.body.merge_strategy === 'auto' && s.body.cluster_id === 'demo')).toBe(true)
  })

  it('executes only the tasks it created when asked, in Chinese', async () => {
    const { results, text } = await run(true, 'zh-CN')
    expect(results).toEqual(['executed', 'conflict', 'refused'])
    expect(sent.filter((s) => s.url.endsWith('/execute')).map((s) => s.url)).toEqual([expect.stringMatching(/\/tasks\/t-1\/execute$/)])
    expect(text).toContain('执行中')
    expect(text).toContain('已有活动任务')
    i18n.global.locale.value = 'en'
  })
})
