/** Resolves after `ms` of real time (for lease expiry judged by the database clock). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
