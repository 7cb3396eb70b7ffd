export {
  type ApiClient,
  type ApiClientLogger,
  type ApiClientOptions,
  type ApiResponse,
  createApiClient,
  type HttpMethod,
  type ListResponse,
  type PaginateOptions,
  type QueryValue,
  type ReceivedResponse,
  type RequestOptions,
  type SentRequest,
} from './client.js'
export * from './contract/index.js'
export {
  ApiClientError,
  type ApiClientErrorCode,
  type ApiErrorDetail,
  JetmonApiError,
  JetmonResponseError,
  JetmonTransportError,
  JetmonUsageError,
  type RateLimitInfo,
} from './errors.js'
export { type CallOptions, createJetmonClient, type JetmonClient } from './typed.js'
