import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import en from '../src/locales/en.json'
import zhCN from '../src/locales/zh-CN.json'
import type { Run } from '../src/api/types'
import { runSummary, runSummaries } from '../src/runs'

const g = createI18n({ legacy: false, locale: 'zh-CN', fallbackLocale: 'en', messages: { en, 'zh-CN': zhCN } }).global
const say = (r: Partial<Run>, locale = 'zh-CN') => {
  g.locale.value = locale as 'en'
  return runSummary({ id: 'r', slot: '', started_at: '', duration_ms: 0, owner: 'o', status: 'succeeded', job: '', ...r } as Run, g.t as never, locale)
}

describe('runSummary', () => {
  it.each([
    ['check-pending', { job: 'check-pending', counts: { requeued: 2 }, summary: 'requeued 2 tasks with expired leases' }, '重新排队了 2 个租约过期的任务'],
    ['retention', { job: 'retention', counts: { runs_deleted: 1200 }, summary: 'deleted 1200 run records with slots before x' }, '删除了 1,200 条过期运行记录'],
    [
      'scan',
      { job: 'scan', counts: { policies: 1, scans: 1, scans_failed: 0, tables: 7, tables_failed: 1 }, summary: 'scanned 1 of 1 scopes: demo (...)' },
      '完成 1 次扫描，共 7 张表：1 张表失败，0 次扫描失败',
    ],
    [
      'batch-create',
      { job: 'batch-create', counts: { policies: 1, candidates: 3, created: 2, already_active: 1, capped: 0, would_create: 0, skipped_tables: 4, failed: 0 } },
      '从 3 个候选创建了 2 个任务：1 个已有活动任务，0 个超出上限，0 个为试运行，0 个失败',
    ],
    [
      'cleanup-backups',
      { job: 'cleanup-backups', counts: { checked: 3, cleaned: 1, kept: 2, dropped: 0, failed: 0, files_deleted: 40, bytes_deleted: 2048, files_carried: 0 } },
      '检查了 3 个备份：清理 1 个（删除 40 个文件，2.0 KiB），保留 2 个，丢弃 0 个，失败 0 个',
    ],
    ['dispatch', { job: 'dispatch', counts: { pending: 4, dispatched: 2, outside_window: 1, capped: 1, not_policy: 0 } }, '分派了 4 个待执行任务中的 2 个：1 个不在时间窗口内，1 个超出上限'],
    ['resume-requeued', { job: 'resume-requeued', summary: 'handed requeued tasks back to the workers' }, '已将重新排队的任务交还给工作进程'],
    ['no enabled policy', { job: 'batch-create', status: 'skipped', counts: { policies: 0 }, summary: 'no enabled policy' }, '没有启用的策略'],
    ['no policy covers a cluster', { job: 'scan', status: 'skipped', counts: { policies: 1 }, summary: 'no enabled policy covers a registered cluster' }, '没有启用的策略覆盖已注册的集群'],
    ['a run still in progress', { job: 'retention', status: 'skipped', summary: 'a run of retention was still in progress' }, '上一次运行仍在进行'],
    ['a failure before counting keeps the text', { job: 'scan', status: 'failed', summary: '' }, ''],
    ['an unknown job keeps the text', { job: 'export', counts: { rows: 1 }, summary: 'exported 1 row' }, 'exported 1 row'],
    ['a running run has no sentence yet', { job: 'scan', status: 'running' }, ''],
    ['English', { job: 'check-pending', counts: { requeued: 0 } }, 'requeued 0 tasks with expired leases'],
  ] as [string, Partial<Run>, string][])('%s', (name, r, want) => {
    expect(say(r, name === 'English' ? 'en' : 'zh-CN')).toBe(want)
  })

  it('words every job the scheduler runs', () => {
    expect(runSummaries.sort()).toEqual(['batch-create', 'check-pending', 'cleanup-backups', 'dispatch', 'resume-requeued', 'retention', 'scan'])
  })
})
