/**
 * idflow's search attributes: every run is findable by flow, person, event type, status and
 * definition hash in the Temporal Web UI and with visibility queries. PostgreSQL visibility
 * allows 10 Keyword and 3 KeywordList attributes; these use 5 and 1. Sandbox-safe.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const IdflowFlow = defineSearchAttributeKey('IdflowFlow', SearchAttributeType.KEYWORD);
export const IdflowSubject = defineSearchAttributeKey('IdflowSubject', SearchAttributeType.KEYWORD);
export const IdflowEventType = defineSearchAttributeKey(
  'IdflowEventType',
  SearchAttributeType.KEYWORD,
);
export const IdflowStatus = defineSearchAttributeKey('IdflowStatus', SearchAttributeType.KEYWORD);
export const IdflowDefinitionHash = defineSearchAttributeKey(
  'IdflowDefinitionHash',
  SearchAttributeType.KEYWORD,
);
export const IdflowPendingApprovers = defineSearchAttributeKey(
  'IdflowPendingApprovers',
  SearchAttributeType.KEYWORD_LIST,
);

/** Name and Temporal CLI type of each attribute, for registering them on a server. */
export const SEARCH_ATTRIBUTES: ReadonlyArray<readonly [string, 'Keyword' | 'KeywordList']> = [
  ['IdflowFlow', 'Keyword'],
  ['IdflowSubject', 'Keyword'],
  ['IdflowEventType', 'Keyword'],
  ['IdflowStatus', 'Keyword'],
  ['IdflowDefinitionHash', 'Keyword'],
  ['IdflowPendingApprovers', 'KeywordList'],
];

/** Values of IdflowStatus. */
export type RunStatus = 'Running' | 'Waiting' | 'Parked' | 'Completed' | 'Failed' | 'Cancelled';
