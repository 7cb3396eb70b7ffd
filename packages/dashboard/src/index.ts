export { isLoopbackBind, SECURE_SESSION_COOKIE, SESSION_COOKIE } from './auth.js'
export { createDashboard, type Dashboard, type DashboardOptions } from './dashboard.js'
export type { FleetInfo, VeriflierStatus, WpcomStatus } from './data/fleet.js'
export { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from './headers.js'
export type { LiveChange, LiveMessage } from './live.js'
export {
  createVeriflierHealthProbe,
  type VeriflierHealthProbeOptions,
  type VeriflierHealthTarget,
} from './veriflier-health.js'
