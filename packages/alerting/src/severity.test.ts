import { describe, expect, it } from 'vitest'
import { MIN_SEVERITY_NAMES, SEVERITY_NAMES } from './index.js'
import { DEFAULT_MIN_SEVERITY, parseMinSeverity, severityForName, severityName } from './severity.js'

const table: [string, number][] = [
  ['Up', 0],
  ['Warning', 1],
  ['Degraded', 2],
  ['Seems Down', 3],
  ['Down', 4],
]

describe('severity ↔ state name', () => {
  it.each(table)('%s is %i both ways', (name, severity) => {
    expect(severityName(severity)).toBe(name)
    expect(severityForName(name)).toBe(severity)
  })

  it('lists the names in severity order', () => {
    expect(SEVERITY_NAMES).toEqual(table.map(([name]) => name))
  })

  it.each([-1, 5, 1.5, Number.NaN, 255])('severityName(%s) throws UNKNOWN_SEVERITY', (severity) => {
    expect(() => severityName(severity)).toThrow(expect.objectContaining({ code: 'UNKNOWN_SEVERITY', severity }))
  })

  it.each(['Resolved', 'Paused', 'Maintenance', 'Unknown', 'down', 'SeemsDown', ''])('%j has no severity', (name) => {
    expect(severityForName(name)).toBeNull()
  })
})

describe('parseMinSeverity', () => {
  it.each([
    ['Warning', 1],
    ['Degraded', 2],
    ['Seems Down', 3],
    ['Down', 4],
  ])('%s ⇒ %i', (name, severity) => {
    expect(parseMinSeverity(name)).toBe(severity)
  })

  it.each(['Up', 'down', 'DOWN', 'SeemsDown', 'Seems  Down', ' Down', '4', '', 'Resolved'])('rejects %j', (name) => {
    expect(parseMinSeverity(name)).toBeNull()
  })

  it('defaults to Down and names exactly the four alerting levels', () => {
    expect(DEFAULT_MIN_SEVERITY).toBe(4)
    expect(MIN_SEVERITY_NAMES).toEqual(['Warning', 'Degraded', 'Seems Down', 'Down'])
  })
})
