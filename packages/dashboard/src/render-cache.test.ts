import { describe, expect, it } from 'vitest'
import { RenderCache } from './render-cache.js'

function setup(maxEntries?: number) {
  const state = { seq: 0, now: 1_000, renders: 0 }
  const cache = new RenderCache<string>(
    () => state.seq,
    maxEntries,
    () => state.now,
  )
  const render = (value: string) => () => {
    state.renders++
    return Promise.resolve(`${value}#${state.renders}`)
  }
  return { state, cache, render }
}

describe('RenderCache', () => {
  it('shares a render within its TTL, and renders again once the TTL has passed', async () => {
    const { state, cache, render } = setup()
    expect(await cache.get('/', 1_000, true, render('overview'))).toBe('overview#1')
    state.now += 999
    expect(await cache.get('/', 1_000, true, render('overview'))).toBe('overview#1')
    state.now += 1
    expect(await cache.get('/', 1_000, true, render('overview'))).toBe('overview#2')
  })

  it('renders again after a change when the caller follows changes, not otherwise', async () => {
    const { state, cache, render } = setup()
    await cache.get('/', 1_000, true, render('overview'))
    await cache.get('/fleet', 2_000, false, render('fleet'))
    state.seq++
    expect(await cache.get('/', 1_000, true, render('overview'))).toBe('overview#3')
    expect(await cache.get('/fleet', 2_000, false, render('fleet'))).toBe('fleet#2')
  })

  it('forgets a failed render, so that the next request tries again', async () => {
    const { cache, render } = setup()
    const failed = cache.get('/', 1_000, true, () => Promise.reject(new Error('database gone')))
    await expect(failed).rejects.toThrow('database gone')
    expect(await cache.get('/', 1_000, true, render('overview'))).toBe('overview#1')
  })

  it('keeps at most maxEntries renders, dropping the oldest first', async () => {
    const { cache, render } = setup(2)
    await cache.get('/a', 1_000, true, render('a'))
    await cache.get('/b', 1_000, true, render('b'))
    await cache.get('/c', 1_000, true, render('c'))
    expect(await cache.get('/b', 1_000, true, render('b'))).toBe('b#2')
    expect(await cache.get('/a', 1_000, true, render('a'))).toBe('a#4')
  })
})
