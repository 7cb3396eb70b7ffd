export {
  type ApiApp,
  type ApiAppOptions,
  createApiApp,
  handlers,
  honoPath,
  MAX_BODY_BYTES,
} from './app.js'
export { AccessAuditWriter, type AccessRecord } from './audit.js'
export { KEY_CACHE_MS } from './auth.js'
export type {
  ApiDeps,
  EndpointProbe,
  Handler,
  Handlers,
  Principal,
  ProbeResult,
  RequestContext,
} from './context.js'
export { Reply } from './context.js'
export { ApiError, type FieldProblem, invalidRequest, notFound } from './errors.js'
export { IdempotencyStore } from './idempotency.js'
export { buildOpenApiDocument } from './openapi.js'
export { DEFAULT_LIMIT, decodeCursor, encodeCursor, MAX_LIMIT, pageOf } from './pagination.js'
export { type RateDecision, RateLimiter } from './rate-limit.js'
export { type RunningApiServer, startApiServer } from './server.js'
