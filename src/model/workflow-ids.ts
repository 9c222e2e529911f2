/**
 * The workflow ids idflow gives its workflows. A module of its own, importing nothing, because
 * workflow code uses it: every module a workflow imports is evaluated again for each workflow
 * the worker creates.
 */

/** The workflow id of an event's dispatch workflow. */
export function dispatchWorkflowId(source: string, id: string): string {
  return `event/${source}/${id}`;
}

/** The workflow id of a flow run started for an event. */
export function runWorkflowId(flow: string, subjectId: string, eventId: string): string {
  return `flow/${flow}/${subjectId}/${eventId}`;
}

/**
 * The workflow id of a person's timeline: the one workflow that applies the person's events in
 * the order idflow accepted them. One per person and idflow deployment: the task queue names
 * the deployment, so two deployments on one Temporal namespace never share a timeline.
 */
export function timelineWorkflowId(taskQueue: string, personId: string): string {
  return `person/${taskQueue}/${personId}`;
}

/** Whether `workflowId` names a flow run (only flow runs have approval tasks). */
export function isRunWorkflowId(workflowId: string): boolean {
  return workflowId.startsWith('flow/');
}
