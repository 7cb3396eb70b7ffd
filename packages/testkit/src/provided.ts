// Values the global setup hands to test files through vitest's provide/inject.
import type {} from 'vitest'

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the run's database server, set by the global setup. */
    jetmonDatabaseUrl: string
  }
}
