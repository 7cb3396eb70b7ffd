export { type FieldIssue, MAX_BODY_BYTES, MAX_CHECKS, type WireResult } from '@jetmon/monitor/protocol'
export { type CheckFunction, checkerFromConfig, checkerOptionsFromConfig } from './_checker.js'
export {
  DEFAULT_CONFIG_FILE,
  describeConfig,
  type LoadVeriflier2ConfigOptions,
  loadVeriflier2Config,
  SECRET_KEYS,
  type Veriflier2Config,
  type Veriflier2ConfigInput,
  veriflier2ConfigSchema,
  veriflier2JsonSchema,
} from './config.js'
export { CheckerSetupError, TlsSetupError } from './errors.js'
export {
  createVeriflierServer,
  type Logger,
  type VeriflierAddress,
  type VeriflierServer,
  type VeriflierServerOptions,
} from './server.js'
export { VERSION } from './version.js'
