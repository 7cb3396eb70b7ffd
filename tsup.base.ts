import type { Options } from 'tsup'

/** The one build shape every package uses; each package's tsup.config.ts spreads it. */
export const base = {
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'node22',
  platform: 'node',
  // Declarations are built against the dependencies' declarations (built first: turbo's `^build`)
  // rather than their sources, so each package's build compiles its own sources only.
  dts: { compilerOptions: { customConditions: [] } },
  sourcemap: true,
  clean: true,
  splitting: false,
  treeshake: true,
} satisfies Options

/**
 * The shape of workspace-only packages and apps (`private` in package.json): the same JavaScript,
 * no declaration files. Nothing reads them: the workspace type-checks against `src` (the
 * `@jetmon/source` condition), and no published package depends on a private one.
 */
export const internal = { ...base, dts: false } satisfies Options
