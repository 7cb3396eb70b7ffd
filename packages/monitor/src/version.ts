import { createRequire } from 'node:module'

/** The version of this package, from its package.json: the default User-Agent names it. */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version
