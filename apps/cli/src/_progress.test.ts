import { PassThrough } from 'node:stream'
import { expect, test } from 'vitest'
import { createProgress, progressLine } from './_progress.js'

test('progressLine: a bar, done/total and the counts', () => {
  expect(progressLine(5, 10, { created: 4, failed: 1 }, 4)).toBe('[██  ]   5/10  created 4  failed 1')
  expect(progressLine(10, 10, {}, 4)).toBe('[████]  10/10')
  expect(progressLine(0, 3, {}, 2)).toBe('[  ]  0/3')
})

test('createProgress draws on a terminal and clears its line at the end; on a pipe it writes nothing', () => {
  const tty = Object.assign(new PassThrough(), { isTTY: true }) as unknown as NodeJS.WriteStream & PassThrough
  const chunks: string[] = []
  tty.on('data', (chunk) => chunks.push(String(chunk)))
  const progress = createProgress(2, tty)
  progress.update(2, { created: 2 })
  progress.finish()
  expect(chunks.join('')).toBe(`\r\x1b[2K${progressLine(2, 2, { created: 2 })}\r\x1b[2K`)

  const pipe = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream & PassThrough
  const piped: string[] = []
  pipe.on('data', (chunk) => piped.push(String(chunk)))
  const quiet = createProgress(2, pipe)
  quiet.update(2, { created: 2 })
  quiet.finish()
  expect(piped).toEqual([])
})
