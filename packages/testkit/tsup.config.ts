import { defineConfig } from 'tsup'
import { internal } from '../../tsup.base.ts'

export default defineConfig({
  ...internal,
  entry: { index: 'src/index.ts', fixtures: 'src/fixtures.ts' },
})
