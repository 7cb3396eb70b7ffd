import type { eventsRoutes } from '@jetmon/api-client'
import type { Handlers } from '../context.js'

export const eventsHandlers: Handlers<typeof eventsRoutes> = {}
