export { type Logger, noopLogger } from '@jetmon/vocabulary'
