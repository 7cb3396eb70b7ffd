import { expect, test } from 'vitest'
import { closestKey, editDistance } from './suggest.js'

test('editDistance counts insertions, deletions, substitutions and swaps', () => {
  expect(editDistance('NUM_OF_CHECKS', 'NUM_OF_CHECKS')).toBe(0)
  expect(editDistance('NUM_OF_CHEKS', 'NUM_OF_CHECKS')).toBe(1)
  expect(editDistance('NUM_OF_CHEKCS', 'NUM_OF_CHECKS')).toBe(1)
  expect(editDistance('PORT', 'BIND')).toBe(4)
  expect(editDistance('', 'ABC')).toBe(3)
})

const keys = ['NUM_OF_CHECKS', 'BUCKET_TOTAL', 'BUCKET_LEASE_SEC', 'PORT', 'BIND', 'API_PORT']

test.each([
  ['NUM_OF_CHEKS', 'NUM_OF_CHECKS'],
  ['num_of_checks', 'NUM_OF_CHECKS'],
  ['num-of-checks', 'NUM_OF_CHECKS'],
  ['BUCKET_TOTL', 'BUCKET_TOTAL'],
  ['BUCKET_LEASE_SECS', 'BUCKET_LEASE_SEC'],
  ['PROT', 'PORT'],
  ['API_PROT', 'API_PORT'],
])('suggests %s → %s', (typo, expected) => {
  expect(closestKey(typo, keys)).toBe(expected)
})

test.each(['HOST', 'TOTALLY_UNRELATED_SETTING', 'X'])('suggests nothing for %s', (key) => {
  expect(closestKey(key, keys)).toBeUndefined()
})
