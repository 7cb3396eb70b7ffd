import { inject } from 'vitest'
import { createScratchDatabase, type ScratchDatabase } from '../src/index.js'

// @jetmon/testkit depends on this package, so these tests reach the run's server directly.
export const scratchDatabase = (options?: { migrate?: boolean }): Promise<ScratchDatabase> =>
  createScratchDatabase(inject('jetmonDatabaseUrl'), options)
