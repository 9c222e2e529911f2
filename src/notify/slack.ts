/**
 * Slack, through its Web API: finding an approver by email, sending the approval request as a
 * direct message with Approve / Reject buttons (Block Kit), and replacing the buttons with the
 * outcome once the task is closed. The API's base URL is configurable, so tests run against a
 * local fake that speaks the same protocol.
 */
import { ErrorCode, WebClient, type Block, type KnownBlock } from '@slack/web-api';
import type { ApprovalEvent, ApprovalTask } from '../temporal/contracts';

export const APPROVE_ACTION = 'idflow.approve';
export const REJECT_ACTION = 'idflow.reject';

/** What a button carries back in the interaction payload. */
export interface ButtonValue {
  workflowId: string;
  step: string;
}

const HEADINGS: Record<string, string> = {
  assigned: 'Approval needed',
  reminded: 'Reminder: approval still needed',
  escalated: 'Escalated to you: approval needed',
};

function subjectName(task: ApprovalTask): string {
  const s = task.subject;
  return `${s.displayName ?? s.id}${s.employeeId ? ` (${s.employeeId})` : ''}`;
}

function accessText(task: ApprovalTask): string | undefined {
  if (task.access === undefined || task.access === null) return undefined;
  if (typeof task.access === 'string') return task.access;
  if (Array.isArray(task.access))
    return task.access.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(', ');
  return JSON.stringify(task.access);
}

/** The Block Kit message of an approval request. */
/** The heading of an approval notice: "Approval needed", "Reminder: …", "Escalated to you: …". */
export function approvalHeading(kind: string): string {
  return HEADINGS[kind] ?? 'Approval needed';
}

export function approvalBlocks(
  task: ApprovalTask,
  kind: ApprovalEvent['kind'],
): Array<KnownBlock | Block> {
  const value = JSON.stringify({
    workflowId: task.workflowId,
    step: task.step,
  } satisfies ButtonValue);
  const access = accessText(task);
  return [
    { type: 'header', text: { type: 'plain_text', text: approvalHeading(kind) } },
    { type: 'section', text: { type: 'mrkdwn', text: task.request } },
    {
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: `*For:* ${subjectName(task)}` },
        ...(access ? [{ type: 'mrkdwn' as const, text: `*Access:* ${access}` }] : []),
        { type: 'mrkdwn', text: `*Flow:* ${task.flow} · step ${task.step}` },
        { type: 'mrkdwn', text: `*Decide by:* ${task.deadline}` },
      ],
    },
    {
      type: 'actions',
      block_id: 'idflow.decision',
      elements: [
        {
          type: 'button',
          action_id: APPROVE_ACTION,
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
          value,
        },
        {
          type: 'button',
          action_id: REJECT_ACTION,
          style: 'danger',
          text: { type: 'plain_text', text: 'Reject' },
          value,
        },
      ],
    },
  ];
}

/** The message that replaces the buttons once the task is closed. */
export function outcomeText(task: ApprovalTask, deciderName: (id: string) => string): string {
  const last = task.decisions[task.decisions.length - 1];
  const verb =
    task.status === 'approved' ? 'Approved' : task.status === 'rejected' ? 'Rejected' : 'Expired';
  if (!last) return `${verb}: ${task.request}`;
  if (last.channel === 'timeout')
    return `${verb} automatically: nobody decided by ${task.deadline}. ${task.request}`;
  const who =
    deciderName(last.by) +
    (last.onBehalfOf !== last.by ? ` for ${deciderName(last.onBehalfOf)}` : '');
  return `${verb} by ${who} at ${last.at}${last.comment ? `: “${last.comment}”` : ''}. ${task.request}`;
}

export class SlackNotifier {
  private readonly client: WebClient;

  constructor(token: string, apiUrl: string) {
    this.client = new WebClient(token, { slackApiUrl: apiUrl, retryConfig: { retries: 2 } });
  }

  /** The Slack user with this email, or undefined when there is none. */
  async userByEmail(email: string): Promise<string | undefined> {
    try {
      const res = await this.client.users.lookupByEmail({ email });
      return res.user?.id;
    } catch (err) {
      const e = err as { code?: string; data?: { error?: string } };
      if (e.code === ErrorCode.PlatformError && e.data?.error === 'users_not_found')
        return undefined;
      throw err;
    }
  }

  async emailOfUser(user: string): Promise<string | undefined> {
    const res = await this.client.users.info({ user });
    return res.user?.profile?.email;
  }

  /** Sends the request as a direct message; returns where it went. */
  async sendApproval(
    user: string,
    task: ApprovalTask,
    kind: ApprovalEvent['kind'],
  ): Promise<{ channel: string; ts: string }> {
    const res = await this.client.chat.postMessage({
      channel: user,
      text: `${approvalHeading(kind)}: ${task.request}`,
      blocks: approvalBlocks(task, kind),
    });
    return { channel: res.channel as string, ts: res.ts as string };
  }

  async replaceWithOutcome(channel: string, ts: string, text: string): Promise<void> {
    await this.client.chat.update({
      channel,
      ts,
      text,
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
    });
  }
}
