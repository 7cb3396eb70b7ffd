import { InvalidInputError, InvalidTransitionError } from './errors.js'
import type { EventIdentity } from './types.js'
import {
  CHANGE_REASONS,
  type ChangeReason,
  CLOSING_REASONS,
  type ClosingReason,
  EVENT_STATES,
  type EventState,
  isChangeReason,
  isClosingReason,
  isEventState,
  isSeverity,
  type Severity,
} from './vocabulary.js'

const CHECK_TYPE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/

/** Default page size of the lists, and the most any list returns at once. */
export const DEFAULT_LIMIT = 50
export const MAX_LIMIT = 1000

export function requireId(field: string, id: bigint): bigint {
  if (typeof id !== 'bigint' || id <= 0n) throw new InvalidInputError(field, `expected a positive bigint id, got ${id}`)
  return id
}

export function requireSource(source: string): string {
  if (typeof source !== 'string' || source.trim() === '' || source.length > 255) {
    throw new InvalidInputError('ctx.source', 'expected who makes the change (1–255 characters), e.g. monitor:<host>')
  }
  return source
}

export function requireLimit(limit: number | undefined): number {
  const value = limit ?? DEFAULT_LIMIT
  if (!Number.isInteger(value) || value < 1 || value > MAX_LIMIT) {
    throw new InvalidInputError('limit', `expected an integer from 1 to ${MAX_LIMIT}, got ${limit}`)
  }
  return value
}

export function requireCheckType(field: string, checkType: string): string {
  if (typeof checkType !== 'string' || !CHECK_TYPE_PATTERN.test(checkType)) {
    throw new InvalidInputError(field, `expected a lowercase identifier of up to 64 characters, got ${checkType}`)
  }
  return checkType
}

/** The identity with its optional parts made explicit; an empty discriminator means none. */
export function normalizeIdentity(identity: EventIdentity): Required<EventIdentity> {
  const endpointId = identity.endpointId ?? null
  if (endpointId !== null) requireId('endpointId', endpointId)
  const discriminator = identity.discriminator ? identity.discriminator : null
  if (discriminator !== null && discriminator.length > 128) {
    throw new InvalidInputError('discriminator', 'expected at most 128 characters')
  }
  return {
    blogId: requireId('blogId', identity.blogId),
    endpointId,
    checkType: requireCheckType('checkType', identity.checkType),
    discriminator,
  }
}

/** The value of the generated `dedup_key` column for an open event of this identity. */
export function dedupKeyOf(identity: Required<EventIdentity>): string {
  return [identity.blogId, identity.endpointId ?? 0n, identity.checkType, identity.discriminator ?? ''].join(':')
}

export function requireEventState(state: unknown): EventState {
  if (!isEventState(state)) {
    throw new InvalidTransitionError(
      `an event cannot be in state ${JSON.stringify(state)}; event states are ${EVENT_STATES.join(', ')} ` +
        '(Up, Paused, Maintenance and Unknown are site-level, and monitor-side trouble never opens an incident)',
    )
  }
  return state
}

export function requireEventSeverity(severity: unknown): Severity {
  if (!isSeverity(severity) || severity === 0) {
    throw new InvalidTransitionError(
      `an event's severity is 1 (Warning) to 4 (Down), got ${JSON.stringify(severity)}; severity 0 (Up) means no event`,
    )
  }
  return severity
}

export function requireChangeReason(reason: unknown): ChangeReason {
  if (!isChangeReason(reason)) {
    throw new InvalidTransitionError(
      `a severity or state change records one of ${CHANGE_REASONS.join(', ')}, not ${JSON.stringify(reason)}; ` +
        'closing reasons belong to closeEvent',
    )
  }
  return reason
}

export function requireClosingReason(reason: unknown): ClosingReason {
  if (!isClosingReason(reason)) {
    throw new InvalidTransitionError(
      `an event closes for one of ${CLOSING_REASONS.join(', ')}, not ${JSON.stringify(reason)}`,
    )
  }
  return reason
}
