/**
 * Activities of approval steps: resolving who approves, telling them (Slack direct message
 * with buttons, or the step's notification channel for people without Slack), and closing the
 * task (audit, Slack messages replaced by the outcome). Every assignment, reminder, escalation
 * and outcome writes an audit row.
 */
import type { ActiveConnectors } from '../src/connectors/active';
import type { Database } from '../src/db/client';
import { insertApprovalMessage, messagesOfTask } from '../src/db/repos/approval-messages';
import { appendAudit } from '../src/db/repos/audit';
import { findResult, storeResult } from '../src/db/repos/idempotency';
import { approverCandidates, getPersons } from '../src/db/repos/persons';
import type { Logger } from '../src/logging';
import { taskIdOf } from '../src/model/approval';
import { approvalHeading, outcomeText, type SlackNotifier } from '../src/notify/slack';
import type { ApprovalEvent, ApprovalTask, Approver } from '../src/temporal/contracts';
import { connectorFailure } from './errors';
import { Channels } from './notify/channels';

export interface ApprovalDeps {
  db: Database;
  logger: Logger;
  connectors: ActiveConnectors;
  slack?: SlackNotifier;
}

export interface NotifyApproversCall {
  task: ApprovalTask;
  kind: ApprovalEvent['kind'];
  to: Approver[];
  channel: string;
  channelType: string;
  idempotencyKey: string;
}

type Via = 'slack' | 'email' | 'log' | 'no-address';

function fallbackText(task: ApprovalTask, kind: string): string {
  return [
    `${kind === 'reminded' ? 'Reminder: ' : kind === 'escalated' ? 'Escalated to you: ' : ''}approval needed`,
    task.request,
    `For ${task.subject.displayName ?? task.subject.id}; decide by ${task.deadline}.`,
    `Decide with POST /v1/approvals/${taskIdOf(task.workflowId, task.step)}/decision.`,
  ].join('\n');
}

export function createApprovalActivities({ db, logger, connectors, slack }: ApprovalDeps) {
  const channels = new Channels(connectors);
  async function deliver(call: NotifyApproversCall, approver: Approver): Promise<Via> {
    if (slack && approver.email) {
      const user = await slack.userByEmail(approver.email);
      if (user) {
        const sent = await slack.sendApproval(user, call.task, call.kind);
        await insertApprovalMessage(db, {
          workflowId: call.task.workflowId,
          step: call.task.step,
          personId: approver.id,
          slackUser: user,
          ...sent,
        });
        return 'slack';
      }
    }
    if (call.channelType === 'email' || call.channelType === 'slack') {
      if (!approver.email) {
        // told nobody, said so in the audit row; the others are still told
        logger.warn(
          { run: call.task.workflowId, step: call.task.step, approver: approver.id },
          'approver has no email address in the identity store: not notified',
        );
        return 'no-address';
      }
      const message = {
        subject: `${approvalHeading(call.kind)}: ${call.task.subject.displayName ?? call.task.subject.id}`,
        text: fallbackText(call.task, call.kind),
      };
      if (call.channelType === 'email') {
        await channels.sendEmail(call.channel, approver.email, message);
        return 'email';
      }
      await channels.sendSlack(call.channel, approver.email, message);
      return 'slack';
    }
    if (call.channelType !== 'log') {
      throw connectorFailure(
        'ConnectorNotConfigured',
        `this worker cannot send through channel type '${call.channelType}'`,
      );
    }
    // the log channel records that the approver was told, never the text: it names the
    // subject, and personal data stays out of logs
    logger.info(
      { channel: call.channel, to: approver.id, run: call.task.workflowId, step: call.task.step },
      `approval ${call.kind} for approver ${approver.id}`,
    );
    return 'log';
  }

  return {
    /** Known, active persons among the ids, groups and roles; never the subject. */
    async resolveApprovers(input: {
      ids: string[];
      groups: string[];
      roles: string[];
      subjectId: string;
    }): Promise<Approver[]> {
      const rows = await approverCandidates(db, input);
      const order = (id: string) => {
        const i = input.ids.indexOf(id);
        return i >= 0 ? i : input.ids.length;
      };
      return rows
        .filter((r) => r.id !== input.subjectId)
        .sort((a, b) => order(a.id) - order(b.id) || a.id.localeCompare(b.id))
        .map((r) => {
          const name = r.displayName ?? [r.givenName, r.familyName].filter(Boolean).join(' ');
          return {
            id: r.id,
            ...(name ? { displayName: name } : {}),
            ...(r.email ? { email: r.email } : {}),
          };
        });
    },

    /** Tells approvers of an assignment, reminder or escalation; once per approver and event. */
    async notifyApprovers(call: NotifyApproversCall): Promise<Record<string, Via>> {
      const via: Record<string, Via> = {};
      for (const approver of call.to) {
        const key = `${call.idempotencyKey}:${approver.id}`;
        const done = await findResult<Via>(db, key);
        via[approver.id] = done ?? (await deliver(call, approver));
        if (!done) await storeResult(db, key, `approval.${call.kind}`, via[approver.id]);
      }
      const auditKey = `${call.idempotencyKey}:audit`;
      if ((await findResult(db, auditKey)) === undefined) {
        await appendAudit(db, {
          actor: 'idflow:approvals',
          action: `approval.${call.kind}`,
          target: `run:${call.task.workflowId}`,
          outcome: 'ok',
          detail: {
            step: call.task.step,
            level: call.task.level,
            approvers: call.to.map((a) => a.id),
            via,
          },
          runId: call.task.workflowId,
          dedupeKey: `${call.idempotencyKey}/approval.${call.kind}`,
        });
        await storeResult(db, auditKey, 'approval.audit', true);
      }
      return via;
    },

    /** Audits how the task ended and replaces its Slack buttons with the outcome. */
    async closeApprovalTask(call: { task: ApprovalTask; idempotencyKey: string }): Promise<void> {
      const { task } = call;
      if ((await findResult(db, call.idempotencyKey)) === undefined) {
        const last = task.decisions[task.decisions.length - 1];
        await appendAudit(db, {
          actor: last?.channel === 'timeout' || !last ? 'idflow:approvals' : `person:${last.by}`,
          action:
            task.status === 'expired'
              ? 'approval.expired'
              : last?.channel === 'timeout'
                ? 'approval.timed-out'
                : 'approval.closed',
          target: `run:${task.workflowId}`,
          outcome: task.status,
          detail: { step: task.step, decisions: task.decisions, level: task.level },
          runId: task.workflowId,
          dedupeKey: `${call.idempotencyKey}/approval.closed`,
        });
        await storeResult(db, call.idempotencyKey, 'approval.close', true);
      }
      if (!slack) return;
      const messages = await messagesOfTask(db, task.workflowId, task.step);
      if (messages.length === 0) return;
      const people = await getPersons(db, [
        ...new Set(task.decisions.flatMap((d) => [d.by, d.onBehalfOf])),
      ]);
      const nameOf = (id: string) => {
        const p = people.find((r) => r.id === id);
        return p?.displayName ?? ([p?.givenName, p?.familyName].filter(Boolean).join(' ') || id);
      };
      const text = outcomeText(task, nameOf);
      for (const m of messages) await slack.replaceWithOutcome(m.channel, m.ts, text);
    },
  };
}
