import { defineConfig } from 'tsup'
import { base } from '../../tsup.base.ts'

// Two entries: the veriflier wire protocol is importable on its own, without the pipeline's dependencies.
export default defineConfig({ ...base, entry: ['src/index.ts', 'src/protocol.ts'] })
