import { type AlertSender, openDestination } from '@jetmon/alerting'
import { alertContacts, type DbOrTx, type Logger, noopLogger, webhooks } from '@jetmon/db'
import { createWebhookDispatcher, jsonId, sendWebhook, signingSecretsAt, WEBHOOK_TIMEOUT_MS } from '@jetmon/webhooks'
import { inArray } from 'drizzle-orm'
import type { Dispatcher } from 'undici'
import { alertNotificationFromPayload } from './alert-payload.js'
import type { AttemptOutcome, ClaimedDelivery } from './claim.js'
import { type DeliveryConsumer, systemClock } from './context.js'

/** Sends the deliveries of one consumer. */
export interface DeliverySender {
  readonly consumer: DeliveryConsumer
  /**
   * Reads the subscribers of a claimed batch (one query) and returns the function that sends one
   * of its deliveries. That function never throws for a receiver's behaviour: every answer,
   * failure and refusal is an {@link AttemptOutcome}.
   */
  prepare(
    db: DbOrTx,
    deliveries: readonly ClaimedDelivery[],
  ): Promise<(delivery: ClaimedDelivery) => Promise<AttemptOutcome>>
  /** Releases connections the sender owns. */
  close(): Promise<void>
}

const unique = <T>(values: Iterable<T>): T[] => [...new Set(values)]

/** Options of {@link createWebhookSender}. */
export interface WebhookSenderOptions {
  /** `SECRETS_KEY` (32 bytes), needed when secrets are stored encrypted. */
  secretsKey?: Uint8Array | null
  /** `WEBHOOK_ALLOW_PRIVATE_TARGETS`; used when no `dispatcher` is given. */
  allowPrivateTargets?: boolean
  /** Default: `createWebhookDispatcher` (the SSRF guard at connection time), owned and closed by the sender. */
  dispatcher?: Dispatcher
  /** Per attempt; default 10 s. */
  timeoutMs?: number
  /** The signature's timestamp comes from it (recomputed on every attempt). */
  clock?: () => Date
  logger?: Logger
}

/**
 * Sends webhook deliveries: the frozen payload with the delivery's id, signed
 * with the webhook's secret — and its previous secret too while a rotation's grace period lasts (the
 * new one first) — at the moment of sending. A webhook that was deleted or deactivated abandons its
 * deliveries; a secret that cannot be decrypted fails the attempt (retried: the key may be fixed).
 */
export function createWebhookSender(options: WebhookSenderOptions = {}): DeliverySender {
  const own = options.dispatcher === undefined
  const dispatcher =
    options.dispatcher ?? createWebhookDispatcher({ allowPrivateTargets: options.allowPrivateTargets === true })
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? noopLogger
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS
  return {
    consumer: 'webhooks',
    async prepare(db, deliveries) {
      const ids = unique(deliveries.map((d) => d.subscriberId))
      const rows =
        ids.length === 0
          ? []
          : await db
              .select({
                id: webhooks.id,
                url: webhooks.url,
                active: webhooks.active,
                secret: webhooks.secret,
                previousSecret: webhooks.previousSecret,
                previousSecretExpiresAt: webhooks.previousSecretExpiresAt,
              })
              .from(webhooks)
              .where(inArray(webhooks.id, ids))
      const byId = new Map(rows.map((row) => [row.id, row]))
      return async (delivery): Promise<AttemptOutcome> => {
        const webhook = byId.get(delivery.subscriberId)
        if (!webhook) return { kind: 'abandon', reason: `webhook ${delivery.subscriberId} was deleted` }
        if (!webhook.active) {
          return { kind: 'abandon', reason: `webhook ${delivery.subscriberId} is deactivated (active = false)` }
        }
        const now = clock()
        let secrets: string[]
        try {
          secrets = signingSecretsAt(webhook, options.secretsKey, now)
        } catch (error) {
          const message = (error as Error).message
          logger.error({ webhookId: String(webhook.id), deliveryId: String(delivery.id) }, message)
          return { kind: 'failed', statusCode: null, response: `secrets: ${message}`, retryable: true }
        }
        // The payload was frozen with its id; the row's id is authoritative all the same.
        const body = JSON.stringify({ ...delivery.payload, id: jsonId(delivery.id) })
        const result = await sendWebhook({
          url: webhook.url,
          secrets,
          body,
          eventType: delivery.eventType,
          deliveryId: delivery.id,
          now,
          dispatcher,
          timeoutMs,
        })
        if (result.outcome === 'answered') {
          return result.ok
            ? { kind: 'delivered', statusCode: result.statusCode, response: result.responseExcerpt }
            : { kind: 'failed', statusCode: result.statusCode, response: result.responseExcerpt, retryable: true }
        }
        return { kind: 'failed', statusCode: null, response: `transport: ${result.error}`, retryable: true }
      }
    },
    async close() {
      // Destroy, not close: a send still running after the worker's stop timeout has had its row
      // released already, and must not hold the stop up for its own 10 s.
      if (own) await dispatcher.destroy().catch(() => {})
    },
  }
}

/** Options of {@link createAlertContactSender}. */
export interface AlertContactSenderOptions {
  /** From `createAlertSender` (@jetmon/alerting): email, PagerDuty, Slack, Teams. */
  alertSender: Pick<AlertSender, 'send'>
  /** `SECRETS_KEY` (32 bytes), needed when destinations are stored encrypted. */
  secretsKey?: Uint8Array | null
  logger?: Logger
}

/**
 * Sends alert deliveries: the frozen notification through the contact's transport to its destination
 * (decrypted at the moment of sending). A contact that was deleted or deactivated abandons its
 * deliveries; a failure the sender calls permanent (`retryable: false`: a 4xx other than 408/429, an
 * invalid destination, the stub email transport) abandons at once, since retrying cannot change it.
 */
export function createAlertContactSender(options: AlertContactSenderOptions): DeliverySender {
  const logger = options.logger ?? noopLogger
  return {
    consumer: 'alerts',
    async prepare(db, deliveries) {
      const ids = unique(deliveries.map((d) => d.subscriberId))
      const rows =
        ids.length === 0
          ? []
          : await db
              .select({
                id: alertContacts.id,
                active: alertContacts.active,
                transport: alertContacts.transport,
                destination: alertContacts.destination,
              })
              .from(alertContacts)
              .where(inArray(alertContacts.id, ids))
      const byId = new Map(rows.map((row) => [row.id, row]))
      return async (delivery): Promise<AttemptOutcome> => {
        const contact = byId.get(delivery.subscriberId)
        if (!contact) return { kind: 'abandon', reason: `alert contact ${delivery.subscriberId} was deleted` }
        if (!contact.active) {
          return { kind: 'abandon', reason: `alert contact ${delivery.subscriberId} is deactivated (active = false)` }
        }
        let notification: ReturnType<typeof alertNotificationFromPayload>
        try {
          notification = alertNotificationFromPayload(delivery.payload)
        } catch (error) {
          return { kind: 'abandon', reason: (error as Error).message }
        }
        let destination: unknown
        try {
          destination = openDestination(contact.destination, options.secretsKey)
        } catch (error) {
          const message = (error as Error).message
          logger.error({ alertContactId: String(contact.id), deliveryId: String(delivery.id) }, message)
          return { kind: 'failed', statusCode: null, response: `secrets: ${message}`, retryable: true }
        }
        const result = await options.alertSender.send({ transport: contact.transport, destination, notification })
        if (result.ok) return { kind: 'delivered', statusCode: result.statusCode, response: result.response }
        const error = result.error ?? `${contact.transport}: not accepted`
        return {
          kind: 'failed',
          statusCode: result.statusCode,
          response: result.statusCode === null ? `transport: ${error}` : result.response || error,
          retryable: result.retryable,
        }
      }
    },
    async close() {},
  }
}
