import { ApiError } from './client'
import { sayNow } from '../messages'

type Translate = (key: string, values?: Record<string, unknown>) => string

// errorText words an error for the user: the API's own message, with what 401 and 403 mean.
export function errorText(e: unknown, t: Translate): string {
  if (e instanceof ApiError) {
    if (e.unauthenticated) return t('errors.unauthenticated')
    if (e.forbidden) return t('errors.forbidden', { message: e.message })
    if (e.status === 0) return t('errors.network', { message: e.message })
    return t('errors.generic', { message: e.reason ? sayNow(e.reason) : e.message })
  }
  return t('errors.generic', { message: e instanceof Error ? e.message : String(e) })
}
