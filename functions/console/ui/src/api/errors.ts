import { ApiError } from './client'
import { i18n } from '../i18n'
import { sayNow } from '../messages'

type Translate = (key: string, values?: Record<string, unknown>) => string

// errorText words an error for the user: what its code means in the console's language, then
// the API's own message (in English unless it is a refusal's translated reason), with what 401
// and 403 mean.
export function errorText(e: unknown, t: Translate): string {
  return words(e, t, true)
}

// errorDetail is errorText without what the code means, for a place that shows the outcome
// already (a bulk result's "conflict" or "refused").
export function errorDetail(e: unknown, t: Translate): string {
  return words(e, t, false)
}

function words(e: unknown, t: Translate, summarize: boolean): string {
  if (e instanceof ApiError) {
    if (e.unauthenticated) return t('errors.unauthenticated')
    if (e.forbidden) return t('errors.forbidden', { message: e.message })
    if (e.status === 0) return t('errors.network', { message: e.message })
    const message = e.reason ? sayNow(e.reason) : e.message
    if (!summarize || !i18n.global.te('errors.codes.' + e.code)) return t('errors.generic', { message })
    const summary = t('errors.codes.' + e.code)
    // The API's generic message for a kind ("not found") would only repeat the summary.
    if (summary.toLowerCase() === message.toLowerCase()) return summary
    return t('errors.coded', { summary, message })
  }
  return t('errors.generic', { message: e instanceof Error ? e.message : String(e) })
}
