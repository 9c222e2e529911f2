/**
 * `sendNotification`: renders a notify step's template and delivers it through its channel:
 * `log` (the worker's log), `email` (one message per recipient) or `slack`. Each recipient is
 * sent to at most once per step run (a retry after a partial failure sends only to those not
 * reached yet); one audit row per step run.
 */
import type { ActiveConnectors } from '../../src/connectors/active';
import type { Database } from '../../src/db/client';
import { appendAudit } from '../../src/db/repos/audit';
import { findResult, storeResult } from '../../src/db/repos/idempotency';
import type { Logger } from '../../src/logging';
import { toCsv } from '../../src/notify/csv';
import { renderTemplate } from '../../src/notify/render';
import type { NotificationCall } from '../../src/temporal/contracts';
import { connectorFailure } from '../errors';
import { Channels, type Attachment, type Delivery } from './channels';

export interface NotifyDeps {
  db: Database;
  logger: Logger;
  connectors: ActiveConnectors;
}

export interface NotificationReceipt {
  channel: string;
  recipients: string[];
  subject?: string;
  deliveries?: Delivery[];
}

function attachmentsOf(call: NotificationCall): Attachment[] {
  return (call.attachments ?? []).map((a) => {
    try {
      return { filename: a.filename, content: toCsv(a.rows), contentType: 'text/csv' };
    } catch (err) {
      throw connectorFailure(
        'InvalidRequest',
        `attachment ${a.filename}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  });
}

export function createNotifyActivities({ db, logger, connectors }: NotifyDeps) {
  const channels = new Channels(connectors);

  async function audit(txDb: Database, call: NotificationCall): Promise<void> {
    await appendAudit(txDb, {
      actor: `flow:${call.flow}`,
      action: 'notification.sent',
      target: call.to.map((r) => `recipient:${r}`).join(','),
      outcome: 'ok',
      detail: {
        channel: call.channel,
        channelType: call.channelType,
        template: call.template.name,
        step: call.stepId,
        ...(call.attachments?.length
          ? { attachments: call.attachments.map((a) => a.filename) }
          : {}),
      },
      runId: call.runId,
      dedupeKey: `${call.idempotencyKey}/notification.sent`,
    });
  }

  return {
    async sendNotification(call: NotificationCall): Promise<NotificationReceipt> {
      const done = await findResult<NotificationReceipt>(db, call.idempotencyKey);
      if (done) return done;
      const message = renderTemplate(call.template, call.data);
      const base: NotificationReceipt = {
        channel: call.channel,
        recipients: call.to,
        ...(message.subject ? { subject: message.subject } : {}),
      };
      if (call.channelType === 'log') {
        return db.transaction(async (tx) => {
          const txDb = tx as unknown as Database;
          // the log channel records that a message went out, never its text or addresses:
          // both carry personal data, which stays out of logs
          logger.info(
            {
              channel: call.channel,
              recipients: call.to.length,
              template: call.template.name,
              run: call.runId,
              step: call.stepId,
            },
            `notification '${call.template.name}' logged (${message.text.length} characters)`,
          );
          await audit(txDb, call);
          await storeResult(txDb, call.idempotencyKey, `notify.${call.channel}`, base);
          return base;
        });
      }
      if (call.channelType !== 'email' && call.channelType !== 'slack') {
        throw connectorFailure(
          'ConnectorNotConfigured',
          `this worker cannot send through channel type '${call.channelType}'`,
        );
      }
      const attachments = attachmentsOf(call);
      const deliveries: Delivery[] = [];
      for (const recipient of call.to) {
        const key = `${call.idempotencyKey}:to:${recipient}`;
        const sent = await findResult<Delivery>(db, key);
        if (sent) {
          deliveries.push(sent);
          continue;
        }
        const delivery =
          call.channelType === 'email'
            ? await channels.sendEmail(call.channel, recipient, message, attachments, key)
            : await channels.sendSlack(call.channel, recipient, message);
        await storeResult(db, key, `notify.${call.channel}`, delivery);
        deliveries.push(delivery);
      }
      const receipt: NotificationReceipt = { ...base, deliveries };
      await db.transaction(async (tx) => {
        const txDb = tx as unknown as Database;
        if (await findResult(txDb, call.idempotencyKey)) return;
        await audit(txDb, call);
        await storeResult(txDb, call.idempotencyKey, `notify.${call.channel}`, receipt);
      });
      return receipt;
    },
  };
}
