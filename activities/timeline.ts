/**
 * `handToTimeline`: the dispatch's decision to the person's timeline, with one signal-with-start
 * from the worker's client (a local activity, so the dispatch ends in one workflow task). A
 * retry may signal twice: the timeline keeps the first decision of an event and ignores the
 * others (src/timeline/book.ts).
 */
import { Context } from '@temporalio/activity';
import type { TimelineDecision } from '../src/temporal/contracts';
import { timelineStartOptions } from '../src/temporal/timeline-start';

export interface HandToTimeline {
  /** The timeline's workflow id (it names the deployment's task queue). */
  timeline: string;
  personId: string;
  decision: TimelineDecision;
}

export function createTimelineActivities() {
  return {
    async handToTimeline({ timeline, personId, decision }: HandToTimeline): Promise<void> {
      const { client, info } = Context.current();
      await client.workflow.signalWithStart('personTimeline', {
        ...timelineStartOptions(info.taskQueue, timeline, personId),
        signal: 'decide',
        signalArgs: [decision],
      });
    },
  };
}
