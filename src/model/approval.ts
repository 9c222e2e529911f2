/** Approval task ids: opaque, URL-safe, naming the run and the step. */

export function taskIdOf(workflowId: string, step: string): string {
  return Buffer.from(`${workflowId}\n${step}`, 'utf8').toString('base64url');
}

export function parseTaskId(taskId: string): { workflowId: string; step: string } | undefined {
  const decoded = Buffer.from(taskId, 'base64url').toString('utf8');
  const [workflowId, step, extra] = decoded.split('\n');
  if (!workflowId || !step || extra !== undefined || taskIdOf(workflowId, step) !== taskId)
    return undefined;
  return { workflowId, step };
}
