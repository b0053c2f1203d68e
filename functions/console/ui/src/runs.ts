import type { Run } from './api/types'
import { formatBytes, formatNumber } from './format'

type Translate = (key: string, named?: Record<string, unknown>) => string

// counted names the counts each known job's sentence ("runSummary.<job>") uses. The scheduler
// words its summary in English; a run of a job not here, or without these counts (a job that
// failed early), shows that text instead.
const counted: Record<string, string[]> = {
  'check-pending': ['requeued'],
  retention: ['runs_deleted'],
  scan: ['scans', 'tables', 'tables_failed', 'scans_failed'],
  'batch-create': ['candidates', 'created', 'already_active', 'capped', 'would_create', 'failed'],
  'cleanup-backups': ['checked', 'cleaned', 'files_deleted', 'bytes_deleted', 'kept', 'dropped', 'failed'],
  dispatch: ['dispatched', 'pending', 'outside_window', 'capped'],
  'resume-requeued': [],
}

// runSummaries lists the jobs whose summaries the console words itself.
export const runSummaries = Object.keys(counted)

// runSummary words what a run did in the console's language from its counts.
export function runSummary(r: Run, t: Translate, locale: string): string {
  const names = counted[r.job]
  const counts = r.counts ?? {}
  if (!names || r.status === 'running') return r.summary ?? ''
  if (r.status === 'skipped') {
    // Any job skips without counts when its previous run had not finished; the policy jobs
    // skip with counts when no enabled policy gives them work.
    if (Object.keys(counts).length === 0) return t('runSummary.inProgress')
    if (r.job === 'scan') return t('runSummary.noPolicyCovers')
    if (r.job === 'batch-create' || r.job === 'dispatch') return t('runSummary.noPolicy')
    return r.summary ?? ''
  }
  if (names.some((n) => typeof counts[n] !== 'number')) return r.summary ?? ''
  const named: Record<string, string> = {}
  for (const n of names) named[n] = n === 'bytes_deleted' ? formatBytes(counts[n]) : formatNumber(counts[n], locale)
  return t('runSummary.' + r.job, named)
}
