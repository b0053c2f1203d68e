import { describe, expect, it } from 'vitest'
import en from '../src/locales/en.json'
import zhCN from '../src/locales/zh-CN.json'

type Tree = { [k: string]: string | Tree }

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>()
  for (const [k, v] of Object.entries(tree)) {
    if (typeof v === 'string') out.set(prefix + k, v)
    else for (const [kk, vv] of flatten(v, prefix + k + '.')) out.set(kk, vv)
  }
  return out
}

// Each distinct name once: a plural's forms repeat {n}, a language without plurals has one.
const placeholders = (s: string) => [...new Set([...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))].sort()

describe('translations', () => {
  const enKeys = flatten(en as Tree)
  const zhKeys = flatten(zhCN as Tree)

  it('every English key has a Chinese text', () => {
    const missing = [...enKeys.keys()].filter((k) => !zhKeys.get(k)?.trim())
    expect(missing).toEqual([])
  })

  it('Chinese has no key English lacks', () => {
    expect([...zhKeys.keys()].filter((k) => !enKeys.has(k))).toEqual([])
  })

  it('the placeholders match', () => {
    const wrong = [...enKeys].filter(([k, v]) => placeholders(v).join() !== placeholders(zhKeys.get(k) ?? '').join()).map(([k]) => k)
    expect(wrong).toEqual([])
  })

  it('sentences are translated, not copied', () => {
    // Short texts such as "ID", "TLS" or "SQL" are the same in both languages; sentences are not.
    const copied = [...enKeys].filter(([k, v]) => v.includes(' ') && zhKeys.get(k) === v).map(([k]) => k)
    expect(copied).toEqual([])
  })
})

// Every key the code names literally is in the catalogue: a key missing from both languages
// would show as the key itself. Keys built at run time (t('status.' + s)) are not checked here.
describe('keys in use', () => {
  const sources = import.meta.glob('../src/**/*.{vue,ts}', { query: '?raw', import: 'default', eager: true }) as Record<string, string>
  const enKeys = flatten(en as Tree)

  it('are all in the catalogue', () => {
    const missing: string[] = []
    for (const [file, text] of Object.entries(sources)) {
      for (const m of text.matchAll(/\bt\(\s*'([\w.]+)'\s*[,)]/g)) {
        if (!enKeys.has(m[1])) missing.push(file + ': ' + m[1])
      }
    }
    expect(Object.keys(sources).length).toBeGreaterThan(10)
    expect(missing).toEqual([])
  })
})
