/**
 * idflow's search attributes: every run is findable by flow, person, event type, status and
 * definition hash in the Temporal Web UI and with visibility queries, and a run over its
 * execution budget by IdflowOverBudget. PostgreSQL visibility allows 10 Keyword, 3 KeywordList
 * and 3 Bool attributes; these use 5, 1 and 1. Sandbox-safe.
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
/**
 * Set to true on a run once its automated time went over its execution budget (never unset,
 * never set to false: a run that stayed within its budget does not carry it).
 */
export const IdflowOverBudget = defineSearchAttributeKey(
  'IdflowOverBudget',
  SearchAttributeType.BOOL,
);

/** Name and Temporal CLI type of each attribute, for registering them on a server. */
export const SEARCH_ATTRIBUTES: ReadonlyArray<
  readonly [string, 'Keyword' | 'KeywordList' | 'Bool']
> = [
  ['IdflowFlow', 'Keyword'],
  ['IdflowSubject', 'Keyword'],
  ['IdflowEventType', 'Keyword'],
  ['IdflowStatus', 'Keyword'],
  ['IdflowDefinitionHash', 'Keyword'],
  ['IdflowPendingApprovers', 'KeywordList'],
  ['IdflowOverBudget', 'Bool'],
];

/** Values of IdflowStatus. */
export type RunStatus = 'Running' | 'Waiting' | 'Parked' | 'Completed' | 'Failed' | 'Cancelled';
