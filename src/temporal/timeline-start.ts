/**
 * How a person's timeline is started when a signal finds none: by the gateway when it accepts
 * an event (`accept`) and by the dispatch's `handToTimeline` activity with the decision
 * (`decide`). Both start it alike, so whichever comes first starts the same timeline.
 */
import type { SearchAttributePair } from '@temporalio/common';
import type { TimelineInput } from './contracts';
import { IdflowSubject } from './search-attributes';
import { timelineDetails } from './summaries';
import { visibleText } from './visible';

export function timelineStartOptions(taskQueue: string, workflowId: string, personId: string) {
  const input: TimelineInput = { personId };
  const attributes: SearchAttributePair[] = [{ key: IdflowSubject, value: personId }];
  return {
    taskQueue,
    workflowId,
    args: [input] as [TimelineInput],
    staticSummary: visibleText(`Timeline of ${personId}`),
    staticDetails: visibleText(timelineDetails(personId)),
    typedSearchAttributes: attributes,
  };
}
