import { describe, expect, it } from 'vitest'
import { formatSpec, specOfName } from '../src/partitions'

describe('specOfName', () => {
  it.each([
    ['one key', 'dt=2024-01-01', { dt: '2024-01-01' }],
    ['several keys, in order', 'dt=2024-01-01/hr=00/country=FR', { dt: '2024-01-01', hr: '00', country: 'FR' }],
    ["Hive's escapes", 'path=a%2Fb/eq=x%3Dy/pct=50%25', { path: 'a/b', eq: 'x=y', pct: '50%' }],
    ['an unescaped = in the value stays', 'k=a=b', { k: 'a=b' }],
    ['non-ASCII is not escaped by Hive', 'city=上海', { city: '上海' }],
    ['unpartitioned', '', {}],
  ])('%s', (_name, name, want) => {
    expect(specOfName(name)).toEqual(want)
  })

  it('round-trips the spec the task shows', () => {
    expect(formatSpec(specOfName('dt=2024-01-01/hr=00'))).toBe('dt=2024-01-01/hr=00')
  })
})
