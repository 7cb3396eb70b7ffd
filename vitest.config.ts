import { existsSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'

// Tests run against TypeScript source: workspace packages export it under this condition.
const conditions = ['@jetmon/source', ...defaultServerConditions]

const root = fileURLToPath(new URL('.', import.meta.url))
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
