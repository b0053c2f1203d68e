// The API's shapes (functions/openapi.json).

import type { Args, Message } from '../messages'

export type Status = 'pending' | 'running' | 'success' | 'failed' | 'cancelled'
export const statuses: Status[] = ['pending', 'running', 'success', 'failed', 'cancelled']
export const activeStatuses: Status[] = ['pending', 'running']

export type Strategy = 'auto' | 'safe_merge' | 'concatenate' | 'insert_overwrite' | 'acid_compact'
export const strategies: Strategy[] = ['auto', 'safe_merge', 'concatenate', 'insert_overwrite', 'acid_compact']

export interface Stats {
  files_before?: number
  files_after?: number
  bytes_before?: number
  bytes_after?: number
  rows_validated?: number
  duration_ms?: number
}

export interface Task {
  id: string
  task_name: string
  cluster_id: string
  database_name: string
  table_name: string
  partition_filter?: Record<string, string>[]
  merge_strategy: Strategy
  chosen_strategy?: Strategy
  strategy_reason?: string
  target_file_size_bytes?: number
  status: Status
  cancel_requested: boolean
  step?: string
  attempt?: number
  progress: number
  created_by?: string
  executed_by?: string
  cancelled_by?: string
  created_at: string
  updated_at: string
  started_at?: string
  finished_at?: string
  statistics: Stats
  error?: string
}

export interface TaskList {
  tasks: Task[]
  next_page_token?: string
}

export interface TaskStats {
  total: number
  by_status: Record<Status, number>
  files_saved: number
  bytes_saved: number
}

export type Level = 'debug' | 'info' | 'warn' | 'error'
export const levels: Level[] = ['debug', 'info', 'warn', 'error']

export interface LogEntry {
  seq: number
  time: string
  level: Level
  step?: string
  message: string
  sql?: string
  duration_ms?: number
}

export interface TaskLogs {
  logs: LogEntry[]
  next_after: number
}

export interface Cluster {
  id: string
  name: string
  host: string
  port: number
  transport: 'binary' | 'http'
  auth: 'NOSASL' | 'NONE' | 'LDAP' | 'KERBEROS'
  tls: boolean
  username?: string
  password_ref?: string
  fs_default?: string
  max_running_tasks: number
  created_at: string
  updated_at: string
}

export interface ConnectionTest {
  cluster_id: string
  ok: boolean
  stage: 'secret' | 'connect' | 'authenticate' | 'query'
  message: string
  databases: number
  latency_ms: number
  duration_ms: number
  tested_at: string
}

export interface PartitionPreview {
  partition: string
  location?: string
  source?: 'listing' | 'metastore'
  files_before: number
  bytes_before: number
  files_after: number
  bytes_after: number
  strategy?: Strategy
  rule?: string
  reason?: string
  reason_code?: string
  reason_args?: Args
  skipped?: boolean
  skip_reason?: string
  statements?: string[]
  settings?: Record<string, string>
  namenode_objects_saved?: number
}

export interface Preview {
  task_id?: string
  database_name: string
  table_name: string
  requested_strategy?: Strategy
  strategy?: Strategy
  rule?: string
  reason?: string
  reason_code?: string
  reason_args?: Args
  target_file_size_bytes?: number
  source?: 'listing' | 'metastore' | 'mixed'
  partitions?: PartitionPreview[]
  totals?: {
    partitions?: number
    partitions_to_merge?: number
    partitions_skipped?: number
    files_before?: number
    bytes_before?: number
    files_after?: number
    bytes_after?: number
    namenode_objects_saved?: number
    bytes_to_rewrite?: number
  }
  warnings?: string[]
  warning_messages?: Message[]
  duration_estimate?: string
}

// inPlace strategies rewrite the data where it lies and keep no backup to roll back to.
export const inPlaceStrategies: Strategy[] = ['concatenate', 'insert_overwrite', 'acid_compact']

// Savings is what a merge would remove.
export interface Savings {
  files?: number
  namenode_objects?: number
  heap_bytes?: number
}

// Health is a score with the rules behind it, in English (rules) and as messages.
export interface Health {
  score?: number
  rules?: string[]
  rule_messages?: Message[]
}

export interface Recommendation {
  merge?: boolean
  strategy?: Strategy
  rule?: string
  reason?: string
  reason_code?: string
  reason_args?: Args
}

export interface TableMetrics {
  cluster_id: string
  database_name: string
  table_name: string
  scan_id?: string
  scanned_at?: string
  location?: string
  compression?: string
  buckets?: number
  source?: 'listing' | 'metastore' | 'mixed'
  table_type?: string
  format?: string
  transactional?: boolean
  partition_keys?: string[]
  partitions?: number
  partitions_to_merge?: number
  stats?: { files?: number; bytes?: number; small_files?: number; blocks?: number; histogram?: number[] }
  needs_merge?: boolean
  savings?: Savings
  health?: Health
  recommendation?: Recommendation
  avg_file_size?: number
  small_file_ratio?: number
  error?: string
  growth?: { per_day?: number; alert?: boolean; reason?: string; reason_code?: string; reason_args?: Args }
}

export interface Summary {
  clusters: number
  tables: number
  tables_to_merge: number
  partitions: number
  files: number
  bytes: number
  small_files: number
  savings?: Savings
  histogram?: number[]
  histogram_labels?: string[]
  worst_tables?: TableMetrics[]
  alerts?: TableMetrics[]
  trend?: TrendPoint[]
}

// TrendPoint is one cluster's totals after one of its scans.
export interface TrendPoint {
  cluster_id: string
  scan_id: string
  time: string
  totals: { tables?: number; partitions?: number; files?: number; bytes?: number; small_files?: number }
}

// histogramLabels name the buckets of every histogram the API returns (binary megabytes).
export const histogramLabels = ['<1MB', '1-16MB', '16-64MB', '64-128MB', '128-256MB', '>256MB']

export interface PartitionMetrics {
  partition: string
  location?: string
  stats?: { files?: number; bytes?: number; small_files?: number; histogram?: number[] }
  needs_merge?: boolean
  savings?: Savings
  health?: Health
  recommendation?: Recommendation
  avg_file_size?: number
  small_file_ratio?: number
  source?: 'listing' | 'metastore' | 'mixed'
  error?: string
}

export type ScanStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted'

export interface Scan {
  scan_id: string
  cluster_id: string
  status: ScanStatus
  progress?: {
    tables_total?: number
    tables_done?: number
    tables_failed?: number
    partitions_listed?: number
    partitions_reused?: number
    partitions_metastore?: number
    files_listed?: number
  }
  // totals are what the finished scan found, partitions it reused unchanged included.
  totals?: { tables?: number; partitions?: number; files?: number; bytes?: number; small_files?: number }
  error?: string
  created_at?: string
  finished_at?: string
}

export interface Window {
  start: string
  duration_minutes: number
}

// PolicyFields are what a client sends: a policy without its timestamps.
export interface PolicyFields {
  name: string
  clusters?: string[]
  databases?: string[]
  tables?: string[]
  exclude?: string[]
  min_small_files: number
  min_small_file_ratio: number
  max_health_score: number
  strategy: Strategy
  target_file_size_bytes: number
  quiet_period_minutes: number
  windows?: Window[]
  max_running_per_cluster: number
  max_tasks_per_run: number
  priority: 'largest_savings'
  dry_run: boolean
  enabled: boolean
}

export interface Policy extends PolicyFields {
  created_at: string
  updated_at: string
}

export interface Candidate {
  cluster_id: string
  database_name: string
  table_name: string
  partition_filter?: Record<string, string>[]
  small_files?: number
  files?: number
  small_file_ratio?: number
  health_score?: number
  reason?: string
  reason_code?: string
  reason_args?: Args
}

export interface PolicySkip {
  cluster_id: string
  database_name: string
  table_name: string
  reason?: string
  reason_code?: string
  reason_args?: Args
}

export interface PolicyPlan {
  policy: string
  candidates?: Candidate[]
  capped?: number
  skipped?: PolicySkip[]
  skipped_total?: number
}

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'skipped'

export interface Run {
  id: string
  job: string
  slot: string
  status: RunStatus
  started_at: string
  finished_at?: string
  duration_ms: number
  owner: string
  counts?: Record<string, number>
  summary?: string
  errors?: string[]
}

export interface RunList {
  runs: Run[]
  next_page_token?: string
}

// jobs are the scheduler's jobs an operator may run now.
export const jobs = ['check-pending', 'scan', 'batch-create', 'retention']
