import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '../src/i18n'
import { signIn } from '../src/api/token'
import TableDetail from '../src/views/TableDetail.vue'

// The network answers as the API does; the scan stays running until the test says it ended.
let scanStatus: string
let calls: string[]

const info = {
  cluster_id: 'demo',
  database_name: 'web',
  table_name: 'events',
  partition_keys: ['dt', 'hr'],
  partitions: 2,
  stats: { files: 300, small_files: 290, bytes: 1000 },
  health: { score: 12, rules: ['97% of the files are small'] },
  recommendation: { merge: true, strategy: 'safe_merge', reason: 'text table: rewrite into a new location' },
}
const partitions = [
  { partition: 'dt=2026-01-01/hr=00', stats: { files: 200, small_files: 200, histogram: [200, 0, 0, 0, 0, 0] } },
  { partition: 'dt=2026-01-01/hr=01', stats: { files: 100, small_files: 90, histogram: [90, 10, 0, 0, 0, 0] } },
]

function answer(url: string, method: string): unknown {
  const path = new URL(url).pathname
  if (path.endsWith('/info')) return info
  if (path.endsWith('/partitions')) return { partitions }
  if (path.endsWith('/history')) return { history: [] }
  if (method === 'POST' && path === '/api/v1/clusters/demo/scans') return { scan_id: 's-1', cluster_id: 'demo', status: 'pending' }
  if (path === '/api/v1/clusters/demo/scans/s-1') return { scan_id: 's-1', cluster_id: 'demo', status: scanStatus, progress: { tables_total: 1, tables_done: scanStatus === 'succeeded' ? 1 : 0 } }
  throw new Error('unexpected ' + method + ' ' + path)
}

beforeEach(() => {
  vi.useFakeTimers()
  scanStatus = 'running'
  calls = []
  signIn('token')
  i18n.global.locale.value = 'en'
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    calls.push((init.method ?? 'GET') + ' ' + new URL(url).pathname)
    return new Response(JSON.stringify(answer(url, init.method ?? 'GET')), { status: init.method === 'POST' ? 202 : 200 })
  })
})
afterEach(() => {
  vi.unstubAllGlobals()
  vi.useRealTimers()
})

async function mountDetail() {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:p(.*)*', component: { template: '<div/>' } }] })
  const w = mount(TableDetail, { props: { cluster: 'demo', db: 'web', table: 'events' }, global: { plugins: [i18n, router] }, attachTo: document.body })
  await flushPromises()
  return w
}

const scanPolls = () => calls.filter((c) => c === 'GET /api/v1/clusters/demo/scans/s-1').length

describe('TableDetail', () => {
  it('shows the table, its health rules, its recommendation and its partitions with their histograms', async () => {
    const w = await mountDetail()
    expect(w.find('[data-test="detail-score"]').text()).toContain('12')
    expect(w.find('[data-test="detail-rules"]').text()).toContain('97% of the files are small')
    expect(w.find('[data-test="detail-reason"]').text()).toBe('text table: rewrite into a new location')
    expect(w.findAll('[data-test="partition-name"]').map((e) => e.text())).toEqual(['dt=2026-01-01/hr=00', 'dt=2026-01-01/hr=01'])
    expect(w.findAll('[data-test="size-histogram"]')).toHaveLength(2)
    w.unmount()
  })

  it('scans the table now, follows the scan until it ends, then reloads the figures', async () => {
    const w = await mountDetail()
    await w.find('[data-test="scan-now"]').trigger('click')
    await flushPromises()
    expect(calls).toContain('POST /api/v1/clusters/demo/scans')
    await vi.advanceTimersByTimeAsync(1000)
    await vi.advanceTimersByTimeAsync(1000)
    expect(scanPolls()).toBe(2)
    scanStatus = 'succeeded'
    const loadsBefore = calls.filter((c) => c.endsWith('/info')).length
    await vi.advanceTimersByTimeAsync(1000)
    await flushPromises()
    expect(scanPolls()).toBe(3)
    expect(calls.filter((c) => c.endsWith('/info')).length).toBe(loadsBefore + 1)
    await vi.advanceTimersByTimeAsync(5000)
    expect(scanPolls()).toBe(3)
    w.unmount()
  })

  it('stops following the scan when the page is left', async () => {
    const w = await mountDetail()
    await w.find('[data-test="scan-now"]').trigger('click')
    await flushPromises()
    await vi.advanceTimersByTimeAsync(1000)
    expect(scanPolls()).toBe(1)
    w.unmount()
    await vi.advanceTimersByTimeAsync(10000)
    expect(scanPolls()).toBe(1)
  })
})
