import { fileURLToPath } from 'node:url'
import { defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'

// The fault suite alone (`pnpm test:faults`): one file, scenarios in order, on a MariaDB of its own
// that it crashes on purpose, so it needs no global database setup.
const conditions = ['@jetmon/source', ...defaultServerConditions]
// Each `jetmon2 serve` checks in one process (MONITOR_PROCESSES defaults to one per core).
Object.assign(process.env, { MONITOR_PROCESSES: '1', ...process.env })

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: 'faults',
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['faults/**/*.fault.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    reporters: ['default', fileURLToPath(new URL('faults/reporter.ts', import.meta.url))],
  },
})
