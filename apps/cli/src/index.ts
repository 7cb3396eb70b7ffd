export { apiCommand } from './api.js'
export { placeGlobalFlags, prepareCommandLine } from './argv.js'
export {
  type ApiConnection,
  apiBaseUrl,
  type ConfigFileState,
  type ConnectionFlags,
  describeOrigin,
  describeTokenSource,
  isLoopbackUrl,
  type ResolveConnectionOptions,
  readTokenFile,
  redactToken,
  resolveConnection,
  type SettingOrigin,
  type TokenSource,
} from './connection.js'
export { LocalConfigError, type LocalConfigErrorCode, UsageError } from './errors.js'
export {
  CONFIG_KEYS,
  DEFAULT_TIMEOUT_SECONDS,
  DEFAULT_URL,
  type KeyDefinition,
  type LocalConfigSettings,
  OUTPUT_FORMATS,
  type OutputFormat,
  type SettingKey,
} from './keys.js'
export {
  CONFIG_ENV,
  type ConfigFileLocation,
  initLocalConfig,
  type LocalConfigFile,
  localConfigLocation,
  readLocalConfig,
  setLocalConfigValue,
  unsetLocalConfigValue,
  writeLocalConfig,
} from './local-config.js'
export { formatTable } from './output.js'
