import { describe, expect, it } from 'vitest'
import { ChunkQueue } from './_queue.js'

const drain = (queue: ChunkQueue<number>) => {
  const out: number[][] = []
  for (let chunk = queue.takeChunk(); chunk.length > 0; chunk = queue.takeChunk()) out.push(chunk)
  return out
}

describe('ChunkQueue', () => {
  it('hands out rows in order, one statement-sized chunk at a time', () => {
    const queue = new ChunkQueue<number>(3)
    for (let i = 0; i < 7; i++) queue.push(i)
    expect(queue.length).toBe(7)
    expect(queue.firstChunkLength).toBe(3)
    expect(drain(queue)).toEqual([[0, 1, 2], [3, 4, 5], [6]])
    expect(queue.length).toBe(0)
  })

  it('drops the oldest rows across chunks and puts failed chunks back in front', () => {
    const queue = new ChunkQueue<number>(3)
    for (let i = 0; i < 7; i++) queue.push(i)
    expect(queue.dropOldest(4)).toBe(4)
    expect(queue.length).toBe(3)
    const taken = queue.takeChunk()
    expect(taken).toEqual([4, 5])
    queue.push(7)
    queue.putBack(taken)
    expect(queue.length).toBe(4)
    expect(queue.dropOldest(1)).toBe(1)
    expect(drain(queue)).toEqual([[5], [6, 7]])
    expect(queue.dropOldest(5)).toBe(0)
  })
})
