/**
 * `sendNotification`: renders a notify step's template and delivers it through its channel.
 * The `log` channel writes the message to the worker's log; every channel writes an audit row,
 * once per idempotency key.
 */
import type { Database } from '../../src/db/client';
import { appendAudit } from '../../src/db/repos/audit';
import { findResult, storeResult } from '../../src/db/repos/idempotency';
import type { Logger } from '../../src/logging';
import { renderTemplate } from '../../src/notify/render';
import type { NotificationCall } from '../../src/temporal/contracts';
import { connectorFailure } from '../errors';

export interface NotifyDeps {
  db: Database;
  logger: Logger;
}

export interface NotificationReceipt {
  channel: string;
  recipients: string[];
  subject?: string;
}

export function createNotifyActivities({ db, logger }: NotifyDeps) {
  return {
    async sendNotification(call: NotificationCall): Promise<NotificationReceipt> {
      if (call.channelType !== 'log') {
        throw connectorFailure(
          'ConnectorNotConfigured',
          `this worker cannot send through channel type '${call.channelType}'`,
        );
      }
      return db.transaction(async (tx) => {
        const txDb = tx as unknown as Database;
        const done = await findResult<NotificationReceipt>(txDb, call.idempotencyKey);
        if (done) return done;
        const message = renderTemplate(call.template, call.data);
        logger.info(
          {
            channel: call.channel,
            to: call.to,
            template: call.template.name,
            subject: message.subject,
            run: call.runId,
            step: call.stepId,
          },
          message.text,
        );
        const receipt: NotificationReceipt = {
          channel: call.channel,
          recipients: call.to,
          ...(message.subject ? { subject: message.subject } : {}),
        };
        await appendAudit(txDb, {
          actor: `flow:${call.flow}`,
          action: 'notification.sent',
          target: call.to.map((r) => `recipient:${r}`).join(','),
          outcome: 'ok',
          detail: {
            channel: call.channel,
            template: call.template.name,
            subject: message.subject,
            step: call.stepId,
          },
          runId: call.runId,
        });
        await storeResult(txDb, call.idempotencyKey, `notify.${call.channel}`, receipt);
        return receipt;
      });
    },
  };
}
