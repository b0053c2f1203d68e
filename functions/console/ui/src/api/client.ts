import type { Args, Message } from '../messages'
import { token, signOut } from './token'

// ApiError is an error the API answered ({"error":{"code","message"}}) or the network failed.
export class ApiError extends Error {
  constructor(
    readonly status: number, // 0 when no answer came
    readonly code: string, // the API's code, or network / bad_response
    message: string,
    readonly reason?: Message, // a refusal's reason as a message, for translation
  ) {
    super(message)
    this.name = 'ApiError'
  }

  // unauthenticated: the token is missing, wrong or expired.
  get unauthenticated(): boolean {
    return this.status === 401
  }

  // forbidden: the token's role may not do this.
  get forbidden(): boolean {
    return this.status === 403
  }

  get notFound(): boolean {
    return this.status === 404
  }
}

// base is where the REST API lives: beside the console's directory on its own origin, under
// the same prefix (/console/ calls /api/v1, /API/console/ calls /API/api/v1).
export const base = apiBase(document.baseURI)

// apiBase is the API's URL for a console page at page.
export function apiBase(page: string): string {
  return new URL('../api/v1', page).href
}

export interface RequestOptions {
  method?: string
  query?: Record<string, string | number | undefined>
  body?: unknown
  signal?: AbortSignal
  fetch?: typeof fetch
}

// request calls the API with the signed-in token. A 401 signs the user out (the token is no
// good), and every failure becomes an ApiError whose message is the API's own.
export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(opts.query ?? {})) {
    if (v !== undefined && v !== '') q.set(k, String(v))
  }
  const url = base + path + (q.size > 0 ? '?' + q.toString() : '')
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (token.value) headers.Authorization = 'Bearer ' + token.value
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json'
  let resp: Response
  try {
    resp = await (opts.fetch ?? fetch)(url, {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    })
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e
    throw new ApiError(0, 'network', (e as Error).message || String(e))
  }
  if (resp.status === 204) return undefined as T
  const text = await resp.text()
  let data: unknown
  try {
    data = text === '' ? undefined : JSON.parse(text)
  } catch {
    data = undefined
  }
  if (!resp.ok) {
    const err = (data as { error?: { code?: string; message?: string; reason_code?: string; reason_args?: Args } } | undefined)?.error
    const message = err?.message ?? (text.slice(0, 200) || resp.statusText)
    const reason = err?.reason_code ? { code: err.reason_code, args: err.reason_args, text: message } : undefined
    const e = new ApiError(resp.status, err?.code ?? 'http_' + resp.status, message, reason)
    if (e.unauthenticated) signOut()
    throw e
  }
  if (data === undefined) throw new ApiError(resp.status, 'bad_response', 'the server answered something that is not JSON')
  return data as T
}
