import { hostname } from 'node:os'
import {
  bindAddress,
  checkerSettings,
  crossCheck,
  integer,
  type JsonSchema,
  type LoadConfigResult,
  loadConfig,
  loggingSettings,
  port,
  redactSecrets,
  text,
  toJsonSchema,
} from '@jetmon/config'
import * as v from 'valibot'

/** Where the veriflier looks for its file when `VERIFLIER_CONFIG` is not set (relative to the working directory). */
export const DEFAULT_CONFIG_FILE = 'config/veriflier.json'

/** Keys whose values must never be logged, in pino `redact.paths` syntax (hand it to the logger). */
export const SECRET_KEYS = ['VERIFLIER_TOKENS[*]'] as const

/**
 * The veriflier's configuration. The check settings are the monitor's own definitions, so both
 * sides run checks with the same limits.
 */
export const veriflier2ConfigSchema = v.pipe(
  v.object({
    VERIFLIER_ID: v.optional(
      v.pipe(
        v.string(),
        v.regex(/\S/, 'must not be empty'),
        v.maxLength(255),
        v.description('Name of this veriflier in its answers. Default: the machine host name.'),
      ),
      () => hostname(),
    ),
    // Required: the monitor records every vote with the region it came from.
    VERIFLIER_REGION: text('Region this veriflier runs in, such as "eu-west" (reported with every answer).'),
    VERIFLIER_TOKENS: v.pipe(
      v.array(
        v.pipe(
          v.string(),
          v.minLength(16, 'must be at least 16 characters long (generate one with: openssl rand -hex 32)'),
        ),
      ),
      v.minLength(1, 'must list at least one token: without one no monitor could use this veriflier'),
      v.description(
        'Bearer tokens accepted from monitors (at least 16 characters each). List the old and the new token while rotating.',
      ),
    ),
    PORT: v.optional(port('Port to listen on (0 = any free port, for tests).'), 7803),
    BIND: v.optional(
      bindAddress('Address to listen on. Default: all IPv4 interfaces (0.0.0.0); use "::" for IPv6 too.'),
      // A veriflier exists to be called by monitors on other hosts (in other regions), so loopback
      // would make every fresh deployment fail. Every check request needs a token; only /v1/health
      // answers without one.
      '0.0.0.0',
    ),
    MAX_CONCURRENCY: v.optional(
      integer(1, 1000, 'Most checks of one request run at the same time (a request carries up to 100).'),
      50,
    ),
    // Monitors send the bearer token and every site's custom headers: off loopback, serve HTTPS.
    TLS_CERT_FILE: v.optional(
      text(
        'PEM file of the certificate to serve HTTPS with, followed by its intermediates; set TLS_KEY_FILE too. Without both, the veriflier serves plain HTTP (fit for loopback only).',
      ),
    ),
    TLS_KEY_FILE: v.optional(text('PEM file of the private key of TLS_CERT_FILE.')),
    ...checkerSettings,
    ...loggingSettings,
  }),
  crossCheck(['TLS_CERT_FILE', 'TLS_KEY_FILE'], (c) => c.TLS_CERT_FILE === undefined || c.TLS_KEY_FILE !== undefined, {
    path: 'TLS_KEY_FILE',
    message: 'is required when TLS_CERT_FILE is set (both or neither)',
  }),
  crossCheck(['TLS_CERT_FILE', 'TLS_KEY_FILE'], (c) => c.TLS_KEY_FILE === undefined || c.TLS_CERT_FILE !== undefined, {
    path: 'TLS_CERT_FILE',
    message: 'is required when TLS_KEY_FILE is set (both or neither)',
  }),
)

/** The validated veriflier configuration, with defaults applied. */
export type Veriflier2Config = v.InferOutput<typeof veriflier2ConfigSchema>
/** What a config file (or the environment) may contain. */
export type Veriflier2ConfigInput = v.InferInput<typeof veriflier2ConfigSchema>

// The Go veriflier's file had lowercase keys; say what became of them.
const RETIRED_KEYS: Record<string, string> = {
  auth_token: 'setting of the Go veriflier, ignored: use VERIFLIER_TOKENS, a list of tokens',
  port: 'setting of the Go veriflier, ignored: use PORT',
  grpc_port: 'setting of the Go veriflier, ignored: use PORT',
}

/** Options of {@link loadVeriflier2Config}. */
export interface LoadVeriflier2ConfigOptions {
  /** The config file; default `VERIFLIER_CONFIG`, else {@link DEFAULT_CONFIG_FILE}. */
  file?: string | undefined
  /** Environment for overrides and `VERIFLIER_CONFIG` (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>> | undefined
}

/**
 * Loads and validates the veriflier's configuration: the file (`file`, else `VERIFLIER_CONFIG`,
 * else `config/veriflier.json`), each key overridable by the environment variable of the same name
 * (lists as JSON). A file named explicitly must exist; without a file the environment alone will do.
 */
export function loadVeriflier2Config(options: LoadVeriflier2ConfigOptions = {}): LoadConfigResult<Veriflier2Config> {
  const env = options.env ?? process.env
  const named = options.file ?? (env.VERIFLIER_CONFIG || undefined)
  return loadConfig({
    schema: veriflier2ConfigSchema,
    file: named ?? DEFAULT_CONFIG_FILE,
    required: named !== undefined,
    env,
    secrets: SECRET_KEYS,
    hints: RETIRED_KEYS,
  })
}

/** A copy of the configuration that is safe to log or print: tokens replaced by `[redacted]`. */
export function describeConfig(config: Veriflier2Config): Veriflier2Config {
  return redactSecrets(config, SECRET_KEYS)
}

/**
 * The JSON Schema of the veriflier's config file, committed as `config/veriflier2.schema.json` for
 * editors. Regenerate with `pnpm --filter @jetmon/jetmon2 run config:schema`.
 */
export function veriflier2JsonSchema(): JsonSchema {
  return toJsonSchema(veriflier2ConfigSchema, {
    title: 'Jetmon 2 veriflier configuration',
    description:
      'The file named by VERIFLIER_CONFIG (default config/veriflier.json). Every key can also be set by an environment variable of the same name (lists as JSON).',
  })
}
