import { useI18n } from 'vue-i18n'
import catalog from './messages.json'
import { formatBytes, formatDuration, formatNumber, formatTime } from './format'
import { i18n } from './i18n'

// The API says why in English and, beside it, as a message: a stable code with named
// arguments (shared/merge's catalog, copied into messages.json by the Go tests). The console
// translates the code (locale key "reasons.<code>") and formats each argument by the verb its
// English template gives it, like the rest of the UI; a code it does not know shows the text.

export type Args = Record<string, unknown>

export interface Message {
  code?: string
  args?: Args
  text?: string
}

const templates: Record<string, string> = catalog

// verbs maps each code's argument names to their verbs ("" for none): {files:plural:file}.
export const verbs: Record<string, Record<string, string>> = Object.fromEntries(
  Object.entries(templates).map(([code, tmpl]) => [
    code,
    Object.fromEntries([...tmpl.matchAll(/\{(\w+)(?::([\w:]+))?\}/g)].map((m) => [m[1], m[2] ?? ''])),
  ]),
)

// reasonOf is the message of an object with reason, reason_code and reason_args.
export function reasonOf(o?: { reason?: string; reason_code?: string; reason_args?: Args } | null): Message {
  return { code: o?.reason_code, args: o?.reason_args, text: o?.reason }
}

type Translate = (key: string, named?: Record<string, unknown>, plural?: number) => string

// render translates m, or returns its English text when the code is unknown here.
export function render(m: Message, t: Translate, te: (key: string) => boolean, locale: string): string {
  const args = m.code ? verbs[m.code] : undefined
  if (!m.code || !args || !te('reasons.' + m.code)) return m.text ?? ''
  const named: Record<string, string> = {}
  for (const [name, verb] of Object.entries(args)) named[name] = formatArg(m.args?.[name], verb, t, te, locale)
  return t('reasons.' + m.code, named)
}

function formatArg(v: unknown, verb: string, t: Translate, te: (key: string) => boolean, locale: string): string {
  if (v === undefined || v === null) return '—'
  if (typeof v === 'object') return render(v as Message, t, te, locale)
  if (typeof v !== 'number') return verb === 'q' ? JSON.stringify(String(v)) : verb === 'time' ? formatTime(String(v), locale) : String(v)
  if (verb.startsWith('plural:')) return t('reasonUnits.' + verb.slice('plural:'.length), { n: formatNumber(v, locale) }, v)
  switch (verb) {
    case 'bytes':
      return formatBytes(v)
    case 'duration':
      return formatSeconds(v)
    case 'round':
      return formatNumber(Math.round(v), locale)
    case 'fixed2':
      return v.toFixed(2)
  }
  return formatNumber(v, locale)
}

// formatSeconds writes a duration in seconds as the console writes durations, with hours.
function formatSeconds(s: number): string {
  if (s < 3600) return formatDuration(s * 1000)
  const h = Math.floor(s / 3600)
  const m = Math.round((s - h * 3600) / 60)
  return m ? `${h} h ${m} min` : `${h} h`
}

// ruleLabel names a planner rule id (a task's strategy_reason; src/rules.json lists them) in
// the console's language, or returns the id itself when it is one this console does not know.
export function ruleLabel(id: string | undefined, t: Translate, te: (key: string) => boolean): string {
  return id && te('rules.' + id) ? t('rules.' + id) : (id ?? '')
}

// stepLabel words a task's step in the console's language: the executor records a step
// ("planned") or a partition's ("dt=1: merged", "(table): done" for an unpartitioned table).
// A step this console does not know stays as recorded.
export function stepLabel(step: string | undefined, t: Translate, te: (key: string) => boolean): string {
  if (!step) return ''
  const i = step.lastIndexOf(': ')
  const [part, name] = i < 0 ? ['', step] : [step.slice(0, i), step.slice(i + 2)]
  if (!te('steps.' + name)) return step
  if (i < 0) return t('steps.' + name)
  return (part === '(table)' ? t('task.wholeTable') : part) + ': ' + t('steps.' + name)
}

// sayNow renders m in the console's current language, outside a component.
export function sayNow(m: Message): string {
  const g = i18n.global
  return render(m, g.t as Translate, (k) => g.te(k), g.locale.value)
}

// useMessages gives a component say(m), which re-renders when the locale changes.
export function useMessages() {
  const { t, te, locale } = useI18n()
  return {
    say: (m: Message) => render(m, t as Translate, (k) => te(k), locale.value),
    reason: (o?: Parameters<typeof reasonOf>[0]) => render(reasonOf(o), t as Translate, (k) => te(k), locale.value),
    rule: (id?: string) => ruleLabel(id, t as Translate, (k) => te(k)),
    step: (s?: string) => stepLabel(s, t as Translate, (k) => te(k)),
  }
}
