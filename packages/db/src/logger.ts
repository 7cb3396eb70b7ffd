// The Logger interface is @jetmon/vocabulary's; @jetmon/db keeps offering it to its importers.
export { type Logger, noopLogger } from '@jetmon/vocabulary'
