/** Stable codes callers can match on (`err.code`), never on messages or class names. */
export type DeliveryErrorCode = 'INVALID_OPTION' | 'INVALID_PAYLOAD'

/** Base class of every error thrown by `@jetmon/delivery`. */
export class DeliveryError extends Error {
  readonly code: DeliveryErrorCode
  constructor(code: DeliveryErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** An option given to a dispatcher, a worker or `startDelivery` cannot work (a batch size of 0…). A caller bug. */
export class InvalidOptionError extends DeliveryError {
  readonly option: string
  constructor(option: string, message: string) {
    super('INVALID_OPTION', `${option} ${message}`)
    this.option = option
  }
}

/** A delivery row's frozen payload is not in the shape this release writes (edited by hand, or corrupt). */
export class InvalidPayloadError extends DeliveryError {
  constructor(message: string) {
    super('INVALID_PAYLOAD', message)
  }
}
