import { inject } from 'vitest'
import { createScratchDatabase, type ScratchDatabase } from '../src/index.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the run's database server (see @jetmon/testkit's global setup). */
    jetmonDatabaseUrl: string
  }
}

// @jetmon/testkit depends on this package, so these tests reach the run's server directly.
export const scratchDatabase = (options?: { migrate?: boolean }): Promise<ScratchDatabase> =>
  createScratchDatabase(inject('jetmonDatabaseUrl'), options)
