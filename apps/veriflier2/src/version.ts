import { createRequire } from 'node:module'

/** The version of this build, from the app's package.json (reported in every answer and by /v1/health). */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version
