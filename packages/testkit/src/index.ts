export { type ManualClock, type ManualTimers, manualClock, manualTimers, settlePromises } from './clock.js'
export { createTestDatabase, type TestDatabase, testServerUrl, useTestDatabase } from './database.js'
export * from './fixtures.js'
export { type LogEntry, type LogLevel, type RecordingLogger, recordingLogger } from './logger.js'
export {
  type CliResult,
  entryArguments,
  firstCodeBlock,
  outputByCommand,
  runReadmeExample,
  runShellExample,
  runToCompletion,
  spawnSource,
} from './process.js'
export { refusedPort, type WaitForOptions, waitFor } from './wait.js'
