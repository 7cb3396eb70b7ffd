import { isIP } from 'node:net'
import { DETECTION_PROFILES, REDIRECT_POLICIES, REQUEST_METHODS } from '@jetmon/vocabulary'
import { parseTargetUrl, type TargetUrl } from './_url.js'
import { CheckerError } from './errors.js'
import type { CheckerOptions, CheckRequest } from './types.js'

const isPositiveInt = (value: unknown) => typeof value === 'number' && Number.isInteger(value) && value > 0

function isDnsServer(value: string): boolean {
  if (isIP(value)) return true
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(value)
  const plain = /^([^:]+):(\d+)$/.exec(value)
  const [host, port] = bracketed ? [bracketed[1], bracketed[2]] : plain ? [plain[1], plain[2]] : [undefined, undefined]
  return host !== undefined && isIP(host) !== 0 && Number(port) > 0 && Number(port) < 65536
}

export function validateCheckerOptions(options: CheckerOptions): void {
  const fail = (message: string) => {
    throw new CheckerError('INVALID_CHECKER_OPTIONS', message)
  }
  if (options.dnsServers !== undefined) {
    if (!Array.isArray(options.dnsServers)) fail('dnsServers: must be an array of "ip" or "ip:port" strings')
    for (const [i, server] of options.dnsServers.entries()) {
      if (typeof server !== 'string' || !isDnsServer(server))
        fail(`dnsServers[${i}]: "${server}" is not an IP address or ip:port`)
    }
  }
  if (options.dnsTimeoutMs !== undefined && !isPositiveInt(options.dnsTimeoutMs)) {
    fail(`dnsTimeoutMs: must be a positive integer, got ${options.dnsTimeoutMs}`)
  }
  for (const key of ['bodyMaxBytes', 'keywordMaxBytes', 'bodyMaxMs'] as const) {
    const value = options.limits?.[key]
    if (value !== undefined && !isPositiveInt(value)) fail(`limits.${key}: must be a positive integer, got ${value}`)
  }
  if (options.ca !== undefined) {
    const list = Array.isArray(options.ca) ? options.ca : [options.ca]
    for (const [i, pem] of list.entries()) {
      if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE-----'))
        fail(`ca[${i}]: must be a PEM certificate`)
    }
  }
  if (options.userAgent !== undefined && (typeof options.userAgent !== 'string' || /[\r\n]/.test(options.userAgent))) {
    fail('userAgent: must be a single-line string')
  }
}

/** Validates a request and returns its parsed URL. */
export function validateCheckRequest(request: CheckRequest): TargetUrl {
  const fail = (message: string) => {
    throw new CheckerError('INVALID_CHECK_REQUEST', message)
  }
  let url: TargetUrl | null = null
  try {
    url = parseTargetUrl(request.url)
  } catch {
    fail(`url: "${String(request.url).slice(0, 100)}" is not a valid URL`)
  }
  if (url && url.protocol !== 'http:' && url.protocol !== 'https:')
    fail(`url: must be http or https, not ${url.protocol}`)
  if (request.method !== undefined && !(REQUEST_METHODS as readonly string[]).includes(request.method)) {
    fail(`method: must be GET or HEAD, got ${request.method}`)
  }
  if (request.timeoutMs !== undefined && (!isPositiveInt(request.timeoutMs) || request.timeoutMs > 300_000)) {
    fail(`timeoutMs: must be an integer from 1 to 300000, got ${request.timeoutMs}`)
  }
  if (
    request.maxRedirects !== undefined &&
    (!Number.isInteger(request.maxRedirects) || request.maxRedirects < 0 || request.maxRedirects > 50)
  ) {
    fail(`maxRedirects: must be an integer from 0 to 50, got ${request.maxRedirects}`)
  }
  if (
    request.redirectPolicy !== undefined &&
    !(REDIRECT_POLICIES as readonly string[]).includes(request.redirectPolicy)
  ) {
    fail(`redirectPolicy: must be follow, alert or fail, got ${request.redirectPolicy}`)
  }
  if (request.profile !== undefined && !(DETECTION_PROFILES as readonly string[]).includes(request.profile)) {
    fail(`profile: must be legacy, simple_http or full, got ${String(request.profile).slice(0, 100)}`)
  }
  if (request.headers !== undefined) {
    if (typeof request.headers !== 'object' || request.headers === null) fail('headers: must be an object of strings')
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value !== 'string') fail(`headers.${name}: must be a string`)
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) fail(`headers: "${name}" is not a valid header name`)
      if (/[\r\n]/.test(value)) fail(`headers.${name}: must not contain line breaks`)
    }
  }
  if (request.forbiddenKeywords != null && !Array.isArray(request.forbiddenKeywords))
    fail('forbiddenKeywords: must be an array of strings')
  // A guard that a stray "true" string silently turned off would fail open.
  if (request.refusePrivateTargets !== undefined && typeof request.refusePrivateTargets !== 'boolean')
    fail(`refusePrivateTargets: must be true or false, got ${JSON.stringify(request.refusePrivateTargets)}`)
  return url as TargetUrl
}
