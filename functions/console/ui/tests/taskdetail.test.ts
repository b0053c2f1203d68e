import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '../src/i18n'
import { signIn } from '../src/api/token'
import TaskDetail from '../src/views/TaskDetail.vue'
import type { Task } from '../src/api/types'

const failed: Task = {
  id: 'old-1',
  task_name: 'web.clicks nightly',
  cluster_id: 'demo',
  database_name: 'web',
  table_name: 'clicks',
  partition_filter: [{ dt: '2026-01-01', hr: '00' }, { dt: '2026-01-01', hr: '01' }],
  merge_strategy: 'concatenate',
  target_file_size_bytes: 268435456,
  status: 'failed',
  cancel_requested: false,
  progress: 40,
  created_by: 'alice',
  executed_by: 'scheduler',
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:05:00Z',
  started_at: '2026-01-01T00:01:00Z',
  finished_at: '2026-01-01T00:05:00Z',
  statistics: {},
  error: 'HiveServer2 went away',
}
let posted: Record<string, unknown>[]

beforeEach(() => {
  posted = []
  signIn('token')
  i18n.global.locale.value = 'en'
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    const path = new URL(url).pathname
    let body: unknown
    if (init.method === 'POST' && path === '/api/v1/tasks/') {
      posted.push(JSON.parse(String(init.body)))
      body = { ...failed, id: 'new-2', status: 'pending' }
    } else if (path === '/api/v1/tasks/old-1') body = failed
    else if (path === '/api/v1/tasks/old-1/logs') body = { logs: [], next_after: 0 }
    else throw new Error('unexpected ' + init.method + ' ' + path)
    return new Response(JSON.stringify(body), { status: init.method === 'POST' ? 201 : 200 })
  })
})
afterEach(() => vi.unstubAllGlobals())

describe('TaskDetail', () => {
  it('retries a failed task as a new task for the same table, partitions, strategy and target, then opens it', async () => {
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:p(.*)*', component: { template: '<div/>' } }] })
    await router.push('/tasks/old-1')
    const w = mount(TaskDetail, { props: { id: 'old-1' }, global: { plugins: [i18n, router] }, attachTo: document.body })
    await flushPromises()
    // Who did what, as the task records it.
    expect(w.find('[data-test="activity-created"]').text()).toContain('Created by alice')
    expect(w.find('[data-test="activity-executed"]').text()).toContain('Executed by scheduler')
    expect(w.find('[data-test="activity-finished"]').text()).toContain('Failed')
    expect(w.find('[data-test="activity-cancelled"]').exists()).toBe(false)

    await w.find('[data-test="retry"]').trigger('click')
    await flushPromises()
    expect(posted).toEqual([
      {
        cluster_id: 'demo',
        task_name: 'web.clicks nightly (retry of old-1)',
        database_name: 'web',
        table_name: 'clicks',
        partition_filter: failed.partition_filter,
        merge_strategy: 'concatenate',
        target_file_size_bytes: 268435456,
      },
    ])
    expect(router.currentRoute.value.path).toBe('/tasks/new-2')
    w.unmount()
  })

  it('offers no retry while a task can still run', async () => {
    failed.status = 'pending'
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:p(.*)*', component: { template: '<div/>' } }] })
    vi.stubGlobal('fetch', async (url: string) => {
      const path = new URL(url).pathname
      const body = path.endsWith('/logs') ? { logs: [], next_after: 0 } : path.endsWith('/preview') ? { database_name: 'web', table_name: 'clicks' } : failed
      return new Response(JSON.stringify(body), { status: 200 })
    })
    const w = mount(TaskDetail, { props: { id: 'old-1' }, global: { plugins: [i18n, router] } })
    await flushPromises()
    expect(w.find('[data-test="execute"]').exists()).toBe(true)
    expect(w.find('[data-test="retry"]').exists()).toBe(false)
    w.unmount()
    failed.status = 'failed'
  })
})
