/**
 * How `serve` (in-process delivery) and `deliver` (delivery alone) turn the configuration into the
 * alert sender and the delivery workers: one place, so the two commands cannot drift apart.
 */
import { type AlertSender, createAlertSender, emailOptionsFromConfig } from '@jetmon/alerting'
import { createDatabase, type Db } from '@jetmon/db'
import { startDelivery } from '@jetmon/delivery'
import type { Logger } from '@jetmon/logging'
import type { Registry } from 'prom-client'
import { decodeSecretsKey, type Jetmon2Config } from '../config.js'
import type { Running } from './running.js'

export interface Alerting {
  /** null: SECRETS_KEY is not set, and secrets are stored in plain text (warned once here). */
  secretsKey: Buffer | null
  alertSender: AlertSender
}

/**
 * The secrets key and the alert sender, with the start-up warnings an operator should see: secrets
 * stored in plain text, emails only logged, private targets allowed.
 */
export function alertingFromConfig(
  config: Jetmon2Config,
  logger: Logger,
  options: { dashboardUrl?: string | null } = {},
): Alerting {
  // validate-config has already checked SECRETS_KEY's shape; undefined here means "not set".
  const secretsKey = config.SECRETS_KEY ? (decodeSecretsKey(config.SECRETS_KEY) ?? null) : null
  if (!secretsKey) {
    logger.warn('SECRETS_KEY is not set: webhook secrets and alert destinations are stored in plain text')
  }
  const alertSender = createAlertSender({
    email: emailOptionsFromConfig(config),
    ...(options.dashboardUrl !== undefined ? { dashboardUrl: options.dashboardUrl } : {}),
    allowPrivateTargets: config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
    logger: logger.child({ module: 'alerting' }),
  })
  if (alertSender.emailTransport === 'stub') {
    logger.warn(
      'EMAIL_TRANSPORT is stub: alert emails are written to the log, not delivered (set EMAIL_TRANSPORT to smtp or wpcom)',
    )
  }
  if (config.WEBHOOK_ALLOW_PRIVATE_TARGETS) {
    logger.warn(
      'WEBHOOK_ALLOW_PRIVATE_TARGETS is true: webhooks and alert contacts may reach loopback and private-network addresses',
    )
  }
  return { secretsKey, alertSender }
}

/** Both dispatchers and both workers of @jetmon/delivery, as the configuration says. */
export function startDeliveryWorkers(input: {
  config: Jetmon2Config
  db: Db
  logger: Logger
  registry: Registry
  alerting: Alerting
}): ReturnType<typeof startDelivery> {
  const { config, alerting } = input
  return startDelivery({
    db: input.db,
    logger: input.logger.child({ module: 'delivery' }),
    secretsKey: alerting.secretsKey,
    allowPrivateTargets: config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
    alertSender: alerting.alertSender,
    registry: input.registry,
    leaseMs: config.DELIVERY_LEASE_SEC * 1000,
  })
}

/**
 * `serve`'s in-process delivery (DELIVERY_WORKERS_ENABLE): the workers on a pool of their own, so
 * that dispatch, claims and up to 50 result writes do not starve the monitor's. A drain lets the
 * sends in flight finish, within its budget, and closes that pool.
 */
export function startInProcessDelivery(input: {
  config: Jetmon2Config
  databaseUrl: string
  logger: Logger
  registry: Registry
  alerting: Alerting
}): Running {
  const { logger } = input
  const database = createDatabase(input.databaseUrl, { connectionLimit: 10 })
  let delivery: ReturnType<typeof startDelivery>
  try {
    delivery = startDeliveryWorkers({ ...input, db: database.db })
  } catch (error) {
    void database.close()
    throw error
  }
  logger.info('delivery workers running (webhooks and alerts)')
  return {
    name: 'delivery workers',
    stop: async (left) => {
      await delivery
        .stop(Math.min(15_000, left() / 2))
        .catch((error: unknown) => logger.warn({ err: error }, 'could not stop the delivery workers cleanly'))
      await database.close()
    },
  }
}
