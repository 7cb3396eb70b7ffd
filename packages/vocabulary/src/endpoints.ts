/** The HTTP methods an endpoint can be checked with (`jetmon_endpoint_config.request_method`). */
export const REQUEST_METHODS = ['GET', 'HEAD'] as const
export type RequestMethod = (typeof REQUEST_METHODS)[number]

/**
 * What a redirect does to an endpoint's check (`jetmon_endpoint_config.redirect_policy`): `follow`
 * follows it, `alert` follows it and flags one that leaves the original host, `fail` makes the
 * redirect itself the failure.
 */
export const REDIRECT_POLICIES = ['follow', 'alert', 'fail'] as const
export type RedirectPolicy = (typeof REDIRECT_POLICIES)[number]
