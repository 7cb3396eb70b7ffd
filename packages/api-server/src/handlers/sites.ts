import type { sitesRoutes } from '@jetmon/api-client'
import type { Handlers } from '../context.js'

export const sitesHandlers: Handlers<typeof sitesRoutes> = {}
