import { readFileSync } from 'node:fs'
import { type CheckerOptions, type CheckRequest, type CheckResult, createChecker, type Logger } from '@jetmon/checker'
import type { Veriflier2Config } from './config.js'
import { CheckerSetupError } from './errors.js'

/** The check function the veriflier runs: `@jetmon/checker`'s, or a stand-in in tests. */
export type CheckFunction = (request: CheckRequest) => Promise<CheckResult>

/**
 * The checker options of a configuration: the same settings the monitor uses (user agent, DNS
 * servers, extra CA, body limits), so that both sides reach the same verdict on the same site.
 * Reads `CA_FILE`; throws {@link CheckerSetupError} when it cannot be used.
 */
export function checkerOptionsFromConfig(config: Veriflier2Config, logger?: Logger): CheckerOptions {
  let ca: string | undefined
  if (config.CA_FILE !== undefined) {
    try {
      ca = readFileSync(config.CA_FILE, 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      const reason =
        code === 'ENOENT'
          ? `file not found (relative paths start at ${process.cwd()})`
          : code === 'EACCES'
            ? 'not readable by this user (permission denied)'
            : (error as Error).message
      throw new CheckerSetupError('CA_FILE', `cannot read ${config.CA_FILE}: ${reason}`, { cause: error })
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new CheckerSetupError('CA_FILE', `${config.CA_FILE} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`)
    }
  }
  return {
    ...(config.USER_AGENT !== undefined && { userAgent: config.USER_AGENT }),
    ...(config.DNS_SERVERS !== undefined && { dnsServers: config.DNS_SERVERS }),
    ...(ca !== undefined && { ca }),
    limits: {
      bodyMaxBytes: config.BODY_READ_MAX_BYTES,
      keywordMaxBytes: config.KEYWORD_READ_MAX_BYTES,
      bodyMaxMs: config.BODY_READ_MAX_MS,
    },
    ...(logger !== undefined && { logger }),
  }
}

/** Builds the checker of a configuration; throws {@link CheckerSetupError} when its settings cannot be used. */
export function checkerFromConfig(config: Veriflier2Config, logger?: Logger): CheckFunction {
  const options = checkerOptionsFromConfig(config, logger)
  try {
    return createChecker(options)
  } catch (error) {
    // The config schema already validated these settings; what is left is a CA the TLS layer rejects.
    throw new CheckerSetupError(config.CA_FILE !== undefined ? 'CA_FILE' : '', (error as Error).message, {
      cause: error,
    })
  }
}
