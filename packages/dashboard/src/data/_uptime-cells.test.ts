import { describe, expect, it } from 'vitest'
import { eventSegments, uptimeCells } from './_uptime-cells.js'

const H = 3_600_000

describe('uptime bar', () => {
  it('follows an event through its states', () => {
    const event = { id: 1n, endpointId: 1n, state: 'Down', startedAt: 0, endedAt: 3 * H }
    const changes = [
      { eventId: 1n, stateAfter: 'Seems Down', changedAt: 0 },
      { eventId: 1n, stateAfter: 'Down', changedAt: H },
      { eventId: 1n, stateAfter: 'Resolved', changedAt: 3 * H },
    ]
    expect(eventSegments(event, changes, 10 * H).map((s) => [s.state, s.startMs, s.endMs])).toEqual([
      ['Seems Down', 0, H],
      ['Down', H, 3 * H],
    ])
    // Still open: runs until now.
    expect(eventSegments({ ...event, endedAt: null }, changes.slice(0, 2), 5 * H).at(-1)).toMatchObject({
      state: 'Down',
      endMs: 5 * H,
    })
  })

  it('colours each cell by the worst state in it, then maintenance, then checks', () => {
    const cells = uptimeCells({
      fromMs: 0,
      cellMs: H,
      cells: 5,
      nowMs: 5 * H,
      segments: [
        { eventId: 1n, state: 'Warning', startMs: 0, endMs: 2 * H },
        { eventId: 2n, state: 'Down', startMs: 1.5 * H, endMs: 1.75 * H },
      ],
      windows: [{ endpointId: null, startsAt: 3 * H, endsAt: 3.5 * H }],
      checks: new Map([
        [0, 12],
        [1, 12],
        [2, 12],
        [3, 6],
      ]),
    })
    expect(cells.map((cell) => cell.state)).toEqual(['Warning', 'Down', 'Up', 'Maintenance', 'No data'])
    expect(cells[1]!.durations).toEqual({ Warning: H, Down: 0.25 * H })
    expect(cells[3]!.durations).toEqual({ Maintenance: 0.5 * H })
  })
})
