export { createTestDatabase, type TestDatabase, testServerUrl } from './database.js'
