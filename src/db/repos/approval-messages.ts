/** Slack messages sent for approval tasks. */
import { and, eq } from 'drizzle-orm';
import type { Database } from '../client';
import { approvalMessages } from '../schema';

export type ApprovalMessageRow = typeof approvalMessages.$inferSelect;

export async function insertApprovalMessage(
  db: Database,
  values: {
    workflowId: string;
    step: string;
    personId: string;
    slackUser: string;
    channel: string;
    ts: string;
  },
): Promise<void> {
  await db.insert(approvalMessages).values(values);
}

export async function messagesOfTask(
  db: Database,
  workflowId: string,
  step: string,
): Promise<ApprovalMessageRow[]> {
  return db
    .select()
    .from(approvalMessages)
    .where(and(eq(approvalMessages.workflowId, workflowId), eq(approvalMessages.step, step)));
}

/** The person a Slack user was messaged as, if any. */
export async function personOfSlackUser(
  db: Database,
  slackUser: string,
): Promise<string | undefined> {
  const rows = await db
    .select({ personId: approvalMessages.personId })
    .from(approvalMessages)
    .where(eq(approvalMessages.slackUser, slackUser))
    .limit(1);
  return rows[0]?.personId;
}
