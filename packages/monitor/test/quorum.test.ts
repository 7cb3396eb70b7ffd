import { describe, expect, it } from 'vitest'
import { decide, quorumOf, type Vote } from '../src/veriflier-client.js'

describe('quorumOf', () => {
  it.each([
    [0, 'auto', 1],
    [1, 'auto', 1],
    [2, 'auto', 2],
    [3, 'auto', 2],
    [4, 'auto', 3],
    [5, 'auto', 3],
    [3, 1, 1],
    [3, 3, 3],
    [3, 0, 1],
  ] as const)('%i configured, setting %s: quorum %i', (configured, setting, quorum) => {
    expect(quorumOf(configured, setting)).toBe(quorum)
  })
})

describe('decide', () => {
  const votes = (...list: Vote[]) => list.map((vote) => ({ vote }))
  it.each([
    // down ≥ quorum ⇒ confirmed
    [votes('down', 'down', 'up'), 2, 'confirmed'],
    [votes('down', 'down', 'error'), 2, 'confirmed'],
    [votes('down'), 1, 'confirmed'],
    [votes('down', 'down', 'down'), 3, 'confirmed'],
    // up + down ≥ quorum and down < quorum ⇒ false alarm
    [votes('up', 'up', 'error'), 2, 'false_alarm'],
    [votes('down', 'up', 'error'), 2, 'false_alarm'],
    [votes('up'), 1, 'false_alarm'],
    [votes('down', 'down', 'up'), 3, 'false_alarm'],
    // fewer usable answers than quorum ⇒ inconclusive
    [votes('down', 'error', 'error'), 2, 'inconclusive'],
    [votes('up', 'error', 'error'), 2, 'inconclusive'],
    [votes('error', 'error', 'error'), 1, 'inconclusive'],
    [votes(), 1, 'inconclusive'],
    [votes('down', 'up'), 3, 'inconclusive'],
  ] as const)('%j with quorum %i: %s', (list, quorum, outcome) => {
    expect(decide(list, quorum)).toBe(outcome)
  })
})
