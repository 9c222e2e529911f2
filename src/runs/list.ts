/**
 * Listing runs from Temporal visibility, a page at a time. The cursor is Temporal's own page
 * token with a fingerprint of the query in front, base64url-encoded: it is opaque to clients,
 * a cursor taken from one filter cannot page through another, and a changed cursor is an
 * input error (RunInputError on `cursor`), never a server error. Page tokens are those of SQL
 * visibility (the dev server's SQLite, PostgreSQL): a token of another shape is refused.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { decodeSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { decodeMapFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { optionalTsToDate } from '@temporalio/common/lib/time';
import * as z from 'zod';
import { RunInputError } from './errors';
import { SUMMARY_MEMO_KEY } from '../temporal/summaries';
import { DEFAULT_LIMIT, runsQuery, type RunFilter } from './filter';

/** One run as a list shows it. */
export interface RunSummary {
  workflowId: string;
  flow: string;
  person?: string;
  eventType?: string;
  /** idflow's status (IdflowStatus); Temporal's own status when the run never set it. */
  status: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, … */
  executionStatus: string;
  definitionHash?: string;
  /** Whether the run overran its execution budget (absent when it did not say). */
  overBudget?: boolean;
  startedAt: string;
  closedAt?: string;
  /** The run's one-line summary, as the Web UI shows it. */
  summary?: string;
}

export interface RunPage {
  runs: RunSummary[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

type ListResponse = Awaited<ReturnType<Client['workflowService']['listWorkflowExecutions']>>;
type RawExecution = ListResponse['executions'][number];

const FINGERPRINT_BYTES = 8;

function fingerprint(query: string): Buffer {
  return createHash('sha256').update(query).digest().subarray(0, FINGERPRINT_BYTES);
}

export function encodeCursor(query: string, token: Uint8Array): string {
  return Buffer.concat([fingerprint(query), Buffer.from(token)]).toString('base64url');
}

/**
 * Temporal's page token of SQL visibility (SQLite, PostgreSQL, MySQL): the last row's times and
 * run id as JSON. Temporal does not refuse a token it cannot read: it fails the call as if it
 * were down, until the deadline. So a token is checked here, and only one of this shape passes.
 */
const PageToken = z.strictObject({
  CloseTime: z.iso.datetime({ offset: true }).optional(),
  StartTime: z.iso.datetime({ offset: true }).optional(),
  RunID: z
    .string()
    .max(64)
    .regex(/^[0-9A-Za-z-]*$/)
    .optional(),
});

function readableToken(token: Buffer): boolean {
  try {
    return PageToken.safeParse(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(token)))
      .success;
  } catch {
    return false;
  }
}

/** Temporal's page token inside a cursor of `query`; RunInputError when it is not one. */
export function decodeCursor(query: string, cursor: string): Buffer {
  const bytes = Buffer.from(cursor, 'base64url');
  if (
    bytes.length <= FINGERPRINT_BYTES ||
    bytes.toString('base64url') !== cursor ||
    !bytes.subarray(0, FINGERPRINT_BYTES).equals(fingerprint(query)) ||
    !readableToken(bytes.subarray(FINGERPRINT_BYTES))
  )
    throw new RunInputError(
      'cursor',
      'is not a cursor of this filter: pass nextCursor from the previous page with the same filter',
    );
  return bytes.subarray(FINGERPRINT_BYTES);
}

const first = (values: unknown): unknown => (Array.isArray(values) ? values[0] : undefined);
const text = (values: unknown): string | undefined => {
  const v = first(values);
  return typeof v === 'string' ? v : undefined;
};

/** Temporal's status names, from the enum's numbers. */
const EXECUTION_STATUS: Record<number, string> = {
  1: 'RUNNING',
  2: 'COMPLETED',
  3: 'FAILED',
  4: 'CANCELLED',
  5: 'TERMINATED',
  6: 'CONTINUED_AS_NEW',
  7: 'TIMED_OUT',
};

/** idflow's attributes of a run, from Temporal's (untyped) search attributes. */
export function runAttributes(attributes: Record<string, unknown>): {
  flow?: string;
  person?: string;
  eventType?: string;
  status?: string;
  definitionHash?: string;
  overBudget?: boolean;
} {
  const overBudget = first(attributes.IdflowOverBudget);
  const out = {
    flow: text(attributes.IdflowFlow),
    person: text(attributes.IdflowSubject),
    eventType: text(attributes.IdflowEventType),
    status: text(attributes.IdflowStatus),
    definitionHash: text(attributes.IdflowDefinitionHash),
    overBudget: typeof overBudget === 'boolean' ? overBudget : undefined,
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

function summaryOf(raw: RawExecution): RunSummary {
  const attributes = runAttributes(decodeSearchAttributes(raw.searchAttributes?.indexedFields));
  const executionStatus = EXECUTION_STATUS[raw.status ?? 0] ?? 'UNKNOWN';
  const closed = optionalTsToDate(raw.closeTime);
  return {
    workflowId: raw.execution?.workflowId ?? '',
    flow: attributes.flow ?? '',
    ...(attributes.person ? { person: attributes.person } : {}),
    ...(attributes.eventType ? { eventType: attributes.eventType } : {}),
    status: attributes.status ?? executionStatus,
    executionStatus,
    ...(attributes.definitionHash ? { definitionHash: attributes.definitionHash } : {}),
    ...(attributes.overBudget !== undefined ? { overBudget: attributes.overBudget } : {}),
    startedAt: (optionalTsToDate(raw.startTime) ?? new Date(0)).toISOString(),
    ...(closed ? { closedAt: closed.toISOString() } : {}),
  };
}

/** gRPC's INVALID_ARGUMENT status code. */
const INVALID_ARGUMENT = 3;

/** Whether a gRPC error is Temporal refusing the request's arguments (here: the page token). */
function isInvalidArgument(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === INVALID_ARGUMENT;
}

/** Runs `fn` over `items`, at most `concurrency` at a time, keeping the order. */
async function mapBounded<T, R>(
  items: T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

/**
 * A run's summary from its memo, which visibility returns with the run (decoded as the client
 * decodes any payload, so a payload codec applies); undefined when the run has none.
 */
async function memoSummary(client: Client, raw: RawExecution): Promise<string | undefined> {
  const field = raw.memo?.fields?.[SUMMARY_MEMO_KEY];
  if (!field) return undefined;
  try {
    const memo = await decodeMapFromPayloads(
      client.options.loadedDataConverter,
      { [SUMMARY_MEMO_KEY]: field },
      {
        type: 'workflow',
        namespace: client.options.namespace,
        workflowId: raw.execution?.workflowId ?? '',
      },
    );
    const summary = memo?.[SUMMARY_MEMO_KEY];
    return typeof summary === 'string' ? summary : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Each run's one-line summary: from the memo idflow starts its runs with, and for a run started
 * before it did (no memo), from its static summary by a describe call, several at a time.
 * Absent where neither has one.
 */
async function withSummaries(
  client: Client,
  raws: RawExecution[],
  runs: RunSummary[],
): Promise<RunSummary[]> {
  const fromMemo = await Promise.all(raws.map((raw) => memoSummary(client, raw)));
  return mapBounded(runs, 10, async (run, i) => {
    const summary =
      fromMemo[i] ??
      (await client.workflow
        .getHandle(run.workflowId)
        .describe()
        .then((d) => d.staticSummary())
        .catch(() => undefined));
    return summary ? { ...run, summary } : run;
  });
}

/**
 * One page of runs matching `filter`, in Temporal's order (runs still open first, newest
 * first; then closed runs, most recently closed first). `summaries: false` leaves out the
 * one-line summaries, which take a describe call for each run without the summary memo.
 */
export async function listRuns(
  client: Client,
  filter: RunFilter,
  options: { summaries?: boolean } = {},
): Promise<RunPage> {
  const query = runsQuery(filter);
  const token = filter.cursor === undefined ? undefined : decodeCursor(query, filter.cursor);
  let response: ListResponse;
  try {
    response = await client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      query,
      pageSize: filter.limit ?? DEFAULT_LIMIT,
      ...(token ? { nextPageToken: token } : {}),
    });
  } catch (err) {
    if (token && isInvalidArgument(err))
      throw new RunInputError('cursor', 'is not a cursor Temporal accepts (changed or expired)');
    throw err;
  }
  const runs = response.executions.map(summaryOf);
  const next = response.nextPageToken;
  return {
    runs:
      options.summaries === false ? runs : await withSummaries(client, response.executions, runs),
    ...(next && next.length > 0 ? { nextCursor: encodeCursor(query, next) } : {}),
  };
}
