import { describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { i18n } from '../src/i18n'
import MergePreview from '../src/components/MergePreview.vue'
import type { Preview } from '../src/api/types'

const base: Preview = {
  database_name: 'demo',
  table_name: 'events',
  strategy: 'safe_merge',
  reason: 'text table: rewrite into a new location',
  partitions: [
    { partition: 'dt=2026-01-01', files_before: 50, bytes_before: 5000, files_after: 1, bytes_after: 5000, strategy: 'safe_merge', reason: '50 small files', statements: ['INSERT OVERWRITE TABLE x SELECT 1', 'ALTER TABLE x SET LOCATION y'] },
    { partition: 'dt=2026-01-02', files_before: 1, bytes_before: 100, files_after: 1, bytes_after: 100, skipped: true, skip_reason: 'already one file' },
  ],
  totals: { files_before: 51, files_after: 2, partitions_to_merge: 1, partitions_skipped: 1 },
}

describe('MergePreview', () => {
  it('shows each partition before and after, the skipped one with why, and no in-place warning for safe_merge', async () => {
    i18n.global.locale.value = 'en'
    const w = mount(MergePreview, { props: { preview: base }, global: { plugins: [i18n] }, attachTo: document.body })
    await flushPromises()
    expect(w.find('[data-test="preview-files"]').text()).toBe('51 → 2')
    expect(w.text()).toContain('dt=2026-01-01')
    expect(w.text()).toContain('50 small files')
    expect(w.findAll('[data-test="preview-skipped"]')).toHaveLength(1)
    expect(w.text()).toContain('already one file')
    expect(w.text()).toContain('1 to merge, 1 skipped')
    expect(w.find('[data-test="preview-inplace"]').exists()).toBe(false)
  })

  it('warns that an in-place strategy cannot be rolled back, and shows the API warnings', () => {
    i18n.global.locale.value = 'zh-CN'
    const p: Preview = { ...base, strategy: 'concatenate', warnings: ['table is being written'] }
    const w = mount(MergePreview, { props: { preview: p }, global: { plugins: [i18n] } })
    expect(w.find('[data-test="preview-inplace"]').text()).toContain('无法回滚')
    expect(w.findAll('[data-test="preview-warning"]').map((e) => e.text())).toEqual(['table is being written'])
    i18n.global.locale.value = 'en'
  })
})
