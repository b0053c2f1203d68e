import { beforeEach, describe, expect, it } from 'vitest'
import { signIn, signOut, signedIn, token } from '../src/api/token'

describe('token store', () => {
  beforeEach(() => {
    sessionStorage.clear()
    signOut()
  })

  it('keeps the trimmed token in sessionStorage', () => {
    signIn('  abc  ')
    expect(token.value).toBe('abc')
    expect(sessionStorage.getItem('hivemerge.token')).toBe('abc')
    expect(localStorage.getItem('hivemerge.token')).toBeNull()
    expect(signedIn()).toBe(true)
  })

  it('refuses an empty token', () => {
    expect(() => signIn('   ')).toThrow()
    expect(signedIn()).toBe(false)
    expect(sessionStorage.getItem('hivemerge.token')).toBeNull()
  })

  it('signs out', () => {
    signIn('abc')
    signOut()
    expect(token.value).toBe('')
    expect(sessionStorage.getItem('hivemerge.token')).toBeNull()
    expect(signedIn()).toBe(false)
  })
})
