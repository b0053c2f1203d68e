import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import SizeHistogram from '../src/components/SizeHistogram.vue'

describe('SizeHistogram', () => {
  it('draws six bars scaled to the largest bucket, with the counts in the tooltip', () => {
    const w = mount(SizeHistogram, { props: { histogram: [200, 50, 0, 0, 0, 100] } })
    const bars = w.findAll('.bar')
    expect(bars.map((b) => b.attributes('data-count'))).toEqual(['200', '50', '0', '0', '0', '100'])
    expect(bars.map((b) => (b.element as HTMLElement).style.height)).toEqual(['100%', '25%', '4%', '4%', '4%', '50%'])
    expect(bars[0].classes()).toContain('small')
    expect(bars[2].classes()).toContain('empty')
    expect(w.attributes('title')).toContain('<1MB: 200')
    expect(w.attributes('title')).toContain('>256MB: 100')
  })

  it('shows empty bars without a histogram', () => {
    const w = mount(SizeHistogram, { props: {} })
    expect(w.findAll('.bar.empty')).toHaveLength(6)
  })
})
