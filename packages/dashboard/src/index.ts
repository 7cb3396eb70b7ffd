export { isLoopbackBind, SECURE_SESSION_COOKIE, SESSION_COOKIE } from './_auth.js'
export { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from './_headers.js'
export type { LiveChange, LiveMessage } from './_live.js'
export { createDashboard, type Dashboard, type DashboardOptions } from './dashboard.js'
export type { FleetInfo, VeriflierStatus, WpcomStatus } from './data/fleet.js'
export {
  createVeriflierHealthProbe,
  type VeriflierHealthProbeOptions,
  type VeriflierHealthTarget,
} from './veriflier-health.js'
