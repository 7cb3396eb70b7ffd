import type { Options } from 'tsup'

/** The one build shape every package uses; each package's tsup.config.ts spreads it. */
export const base = {
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: false,
  treeshake: true,
} satisfies Options
