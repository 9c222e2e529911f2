/**
 * Whose run a workflow is: the person its IdflowSubject search attribute names. A caller that
 * may see only one person's runs asks `requireRunOf` first; a run of anyone else is refused as
 * RunNotFoundError, exactly as a workflow id that no run has.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { RunNotFoundError } from './errors';
import { runAttributes } from './list';

/** The person run `workflowId` is about (undefined: it names none); RunNotFoundError when none has the id. */
export async function runSubject(client: Client, workflowId: string): Promise<string | undefined> {
  try {
    return runAttributes((await client.workflow.getHandle(workflowId).describe()).searchAttributes)
      .person;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new RunNotFoundError(workflowId);
    throw err;
  }
}

/** Resolves when `workflowId` is a run about `person`; RunNotFoundError otherwise. */
export async function requireRunOf(
  client: Client,
  workflowId: string,
  person: string,
): Promise<void> {
  if ((await runSubject(client, workflowId)) !== person) throw new RunNotFoundError(workflowId);
}
