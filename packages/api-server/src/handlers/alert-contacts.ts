import type { alertContactsRoutes } from '@jetmon/api-client'
import type { Handlers } from '../context.js'

export const alertContactsHandlers: Handlers<typeof alertContactsRoutes> = {}
