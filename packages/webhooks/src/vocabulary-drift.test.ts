import { CLOSING_REASONS as STORE_CLOSING, TRANSITION_REASONS as STORE_REASONS } from '@jetmon/eventstore'
import { expect, it } from 'vitest'
import { CLOSING_REASONS, TRANSITION_REASONS } from './event-types.js'

it('repeats the event store’s transition and closing reasons exactly', () => {
  expect([...TRANSITION_REASONS]).toEqual([...STORE_REASONS])
  expect([...CLOSING_REASONS]).toEqual([...STORE_CLOSING])
})
