import type { webhooksRoutes } from '@jetmon/api-client'
import type { Handlers } from '../context.js'

export const webhooksHandlers: Handlers<typeof webhooksRoutes> = {}
