export type { CheckFunction } from './checker.js'
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
  type VeriflierAddress,
  type VeriflierServer,
  type VeriflierServerOptions,
} from './server.js'
export { VERSION } from './version.js'
