import { defineConfig } from 'tsup'
import { base } from '../../tsup.base.ts'

// `@jetmon/api-server/keys`: key helpers for the local `jetmon2 keys` commands, without the server.
export default defineConfig({ ...base, entry: ['src/index.ts', 'src/keys.ts'] })
