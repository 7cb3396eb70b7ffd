import { defineConfig } from 'tsup'
import { base } from '../../tsup.base.ts'

export default defineConfig({ ...base, entry: { index: 'src/index.ts', 'fixtures/index': 'src/fixtures/index.ts' } })
