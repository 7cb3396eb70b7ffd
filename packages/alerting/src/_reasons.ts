export { isClosingReason } from '@jetmon/vocabulary'
