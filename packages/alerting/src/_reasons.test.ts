import { CLOSING_REASONS as STORE_CLOSING } from '@jetmon/eventstore'
import { expect, it } from 'vitest'
import { CLOSING_REASONS } from './_reasons.js'

it('repeats the event store’s closing reasons exactly', () => {
  expect([...CLOSING_REASONS].sort()).toEqual([...STORE_CLOSING].sort())
})
