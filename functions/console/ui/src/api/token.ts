import { ref } from 'vue'

// The bearer token lives in sessionStorage: it survives a reload but not the tab, and no
// other site can read it.
const KEY = 'hivemerge.token'

function read(): string {
  try {
    return sessionStorage.getItem(KEY) ?? ''
  } catch {
    return ''
  }
}

export const token = ref(read())

export function signIn(value: string): void {
  const t = value.trim()
  if (t === '') throw new Error('empty token')
  sessionStorage.setItem(KEY, t)
  token.value = t
}

export function signOut(): void {
  sessionStorage.removeItem(KEY)
  token.value = ''
}

export function signedIn(): boolean {
  return token.value !== ''
}
