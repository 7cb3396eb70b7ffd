import { describe, expect, it } from 'vitest'
import { html, jsonScript } from './_html.js'

describe('html', () => {
  it('escapes every interpolated value, in text and attributes', () => {
    const url = `https://x.example/"><script>alert('x')</script>`
    expect(html`<a href="${url}">${url}</a>`.value).toBe(
      '<a href="https://x.example/&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;">https://x.example/&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</a>',
    )
  })

  it('passes markup built by html through, joins lists and drops nothing-values', () => {
    const items = ['a<b', 'c'].map((item) => html`<li>${item}</li>`)
    expect(html`<ul>${items}${null}${false}${undefined}${0}</ul>`.value).toBe('<ul><li>a&lt;b</li><li>c</li>0</ul>')
  })

  it('keeps JSON data blocks from closing their element', () => {
    const block = jsonScript('data', { text: '</script><script>alert(1)</script>', id: 12n })
    expect(block.value).not.toContain('</script><script>')
    expect(block.value.match(/<\/script>/g)).toHaveLength(1)
    const inner = block.value.replace(/^<script[^>]*>/, '').replace(/<\/script>$/, '')
    expect(JSON.parse(inner)).toEqual({ text: '</script><script>alert(1)</script>', id: '12' })
  })
})
