import { ALERT_TRANSPORTS, DETECTION_PROFILES, REDIRECT_POLICIES, REQUEST_METHODS } from '@jetmon/vocabulary'
import { describe, expect, it } from 'vitest'
import { alertContacts, endpointConfig } from '../src/schema.js'

// The schema writes its ENUM values out (drizzle-kit loads schema.ts on its own, without the
// workspace's packages), so this keeps them equal to the vocabulary every other package uses.
describe('schema enums match @jetmon/vocabulary', () => {
  it.each([
    ['jetmon_endpoint_config.request_method', endpointConfig.requestMethod.enumValues, REQUEST_METHODS],
    ['jetmon_endpoint_config.detection_profile', endpointConfig.detectionProfile.enumValues, DETECTION_PROFILES],
    ['jetmon_endpoint_config.redirect_policy', endpointConfig.redirectPolicy.enumValues, REDIRECT_POLICIES],
    ['jetmon_alert_contacts.transport', alertContacts.transport.enumValues, ALERT_TRANSPORTS],
  ])('%s', (_column, schemaValues, vocabulary) => {
    expect(schemaValues).toEqual([...vocabulary])
  })
})
