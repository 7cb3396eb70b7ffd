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

/**
 * How much of a response an endpoint's check judges (`jetmon_endpoint_config.detection_profile`):
 * `legacy` judges reachability, TLS validity and the status only, without reading the body;
 * `simple_http` also reads the body for the keyword rules; `full` judges the body too (truncated
 * or empty) and reports advisories. A range taken over from the old monitor starts on `legacy`.
 */
export const DETECTION_PROFILES = ['legacy', 'simple_http', 'full'] as const
export type DetectionProfile = (typeof DETECTION_PROFILES)[number]

/** The request method of a check that names none, and of endpoints whose fleet sets no other. */
export const DEFAULT_REQUEST_METHOD: RequestMethod = 'GET'

/** The detection profile of a check that names none, and of endpoints whose fleet sets no other. */
export const DEFAULT_DETECTION_PROFILE: DetectionProfile = 'full'
