export { createTestDatabase, type TestDatabase, testServerUrl } from './database.js'
export * from './fixtures/index.js'
