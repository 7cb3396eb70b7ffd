import type { statsRoutes } from '@jetmon/api-client'
import type { Handlers } from '../context.js'

export const statsHandlers: Handlers<typeof statsRoutes> = {}
