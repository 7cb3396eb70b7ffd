import { existsSync, readdirSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'

// Tests run against TypeScript source: workspace packages export it under this condition.
const conditions = ['@jetmon/source', ...defaultServerConditions]

const root = fileURLToPath(new URL('.', import.meta.url))

// Node.js keeps the code it compiled on disk and reuses it in the next process (the workers, and the
// binaries the tests start hundreds of times). `npm test` sets the same.
Object.assign(process.env, { NODE_COMPILE_CACHE: `${root}.jetmon/compile-cache`, ...process.env })
// The `jetmon2 serve` processes tests start check in one process unless a test asks for more
// (MONITOR_PROCESSES defaults to one per core).
Object.assign(process.env, { MONITOR_PROCESSES: '1', ...process.env })
const workspaces = ['packages', 'apps'].flatMap((group) =>
  readdirSync(`${root}${group}`)
    .filter((name) => existsSync(`${root}${group}/${name}/package.json`))
    .map((name) => `${group}/${name}`),
)

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    // One MariaDB per run, shared by every project (see packages/testkit/src/global-setup.ts).
    globalSetup: [fileURLToPath(new URL('packages/testkit/src/global-setup.ts', import.meta.url))],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Test files mostly wait on MariaDB, sockets and the processes they start, so one file runs per
    // core (vitest's default is one fewer: on a 2-core machine, one file after another). Not more:
    // the files that start the binaries many times are CPU-bound, and their timeouts are sized for
    // one core each.
    maxWorkers: Math.max(2, availableParallelism()),
    projects: workspaces.map((dir) => ({
      extends: true,
      test: {
        name: dir.split('/')[1],
        root: fileURLToPath(new URL(dir, import.meta.url)),
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      },
    })),
  },
})
