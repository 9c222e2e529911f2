/**
 * `idflow audit list|export|verify|prune|checkpoint|keygen`: the audit trail for an auditor and
 * an operator. Filters are the API's (one schema), the chain is verified a page at a time, and
 * pruning writes a signed checkpoint first.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { auditCsv } from '../../audit/export';
import { generateCheckpointKeys } from '../../audit/keys';
import {
  AuditQuerySchema,
  auditPage,
  auditRows,
  queryProblems,
  type AuditQuery,
} from '../../audit/query';
import { pruneAudit, verificationKeys, writeCheckpoint } from '../../audit/retention';
import { verifyChain } from '../../audit/verify';
import { table } from '../access-view';
import { cliActor, withDatabase } from '../runtime';

interface FilterOptions {
  actor?: string;
  action?: string;
  target?: string;
  run?: string;
  outcome?: string;
  from?: string;
  to?: string;
  order?: string;
  limit?: string;
  cursor?: string;
}

const FILTERS = ['actor', 'action', 'target', 'run', 'outcome', 'from', 'to'] as const;

function withFilters(command: Command): Command {
  return command
    .option('--actor <actor>', 'who acted, e.g. token:hr-integration or cli:alice')
    .option('--action <action>', 'the action, e.g. definition.activated')
    .option('--target <target>', 'what it acted on, e.g. person:p-1001')
    .option('--run <workflowId>', 'the run')
    .option('--outcome <outcome>', 'ok, failed, refused, unchanged, flagged, …')
    .option('--from <date>', 'written at or after (ISO 8601 date or date-time)')
    .option('--to <date>', 'written before (ISO 8601 date or date-time)');
}

/** The options as the API's query, checked by the same schema; errors name the options. */
export function auditQueryOf(options: FilterOptions): AuditQuery {
  const raw: Record<string, string> = {};
  for (const key of [...FILTERS, 'order', 'limit', 'cursor'] as const) {
    const value = options[key];
    if (value !== undefined) raw[key] = value;
  }
  const parsed = AuditQuerySchema.safeParse(raw);
  const problems = parsed.success
    ? queryProblems(parsed.data).map((p) => `--${p.path.slice(1)} ${p.message}`)
    : parsed.error.issues.map((i) => `--${String(i.path[0])} ${i.message}`);
  if (parsed.success && !problems.length) return parsed.data;
  throw new Error(problems.join('; '));
}

/** A date for --before: ISO 8601, refused with the expected form. */
function parseBefore(text: string): Date {
  const parsed = AuditQuerySchema.safeParse({ to: text });
  if (!parsed.success || !parsed.data.to)
    throw new Error(
      `--before must be an ISO 8601 date or date-time, like 2025-01-01, not ${JSON.stringify(text)}`,
    );
  return parsed.data.to;
}

const clip = (text: string, max: number) =>
  [...text].length > max ? `${[...text].slice(0, max - 1).join('')}…` : text;

export function registerAudit(program: Command): void {
  const audit = program
    .command('audit')
    .description('read, export, verify and prune the audit trail');

  withFilters(audit.command('list'))
    .description('audit rows as a table, newest first')
    .option('--order <order>', 'desc (newest first) or asc', 'desc')
    .option('--limit <n>', 'rows to show (1 to 1000)', '50')
    .option('--cursor <cursor>', 'continue where the last page stopped')
    .option('--json', 'print the rows as JSON')
    .action((options: FilterOptions & { json?: boolean }) => {
      const query = auditQueryOf(options);
      return withDatabase(async (db) => {
        const page = await auditPage(db, query);
        if (options.json) {
          console.log(JSON.stringify(page, null, 2));
          return;
        }
        const rows = page.entries.map((r) => [
          String(r.seq),
          r.at.toISOString(),
          r.actor,
          r.action,
          r.target,
          r.outcome,
          r.runId ?? '',
          clip(JSON.stringify(r.detail), 60),
        ]);
        if (!rows.length) console.error('no audit rows match');
        else
          console.log(
            table(['SEQ', 'AT', 'ACTOR', 'ACTION', 'TARGET', 'OUTCOME', 'RUN', 'DETAIL'], rows, ''),
          );
        if (page.nextCursor) console.error(`more: --cursor ${page.nextCursor}`);
      });
    });

  withFilters(audit.command('export'))
    .description('audit rows as CSV (RFC 4180), oldest first')
    .option('--order <order>', 'asc (oldest first) or desc', 'asc')
    .option('--output <file>', 'write to a file instead of standard output')
    .action((options: FilterOptions & { output?: string }) => {
      const query = auditQueryOf(options);
      return withDatabase(async (db) => {
        let count = 0;
        const pages = (async function* () {
          for await (const rows of auditRows(db, query)) {
            count += rows.length;
            yield rows;
          }
        })();
        const csv = Readable.from(auditCsv(pages));
        if (options.output) {
          await pipeline(csv, createWriteStream(options.output));
          console.error(`wrote ${count} audit rows to ${options.output}`);
        } else {
          await pipeline(csv, process.stdout, { end: false });
        }
      });
    });

  audit
    .command('verify')
    .description('walk the hash chain; name the first row changed, removed or inserted')
    .action(() =>
      withDatabase(async (db, config) => {
        const report = await verifyChain(db, { publicKeys: verificationKeys(config.audit) });
        const facts = [
          `${report.rowsVerified} row${report.rowsVerified === 1 ? '' : 's'} verified`,
          report.startsAfterSeq !== undefined
            ? `from the checkpoint after row ${report.startsAfterSeq}`
            : '',
          report.head ? `head row ${report.head.seq} (${report.head.hash})` : '',
          `${report.checkpoints} checkpoint${report.checkpoints === 1 ? '' : 's'} signed correctly`,
          report.legacyRows
            ? `${report.legacyRows} row${report.legacyRows === 1 ? '' : 's'} from before the chain (no hash, not verifiable)`
            : '',
        ].filter(Boolean);
        if (!report.ok)
          throw new Error(
            `audit chain broken at row ${report.problem?.seq} (${report.problem?.kind}): ${report.problem?.message}`,
          );
        console.log(`audit chain intact: ${facts.join('; ')}`);
      }),
    );

  audit
    .command('prune')
    .description('remove rows older than a date, after a signed checkpoint (audited)')
    .option(
      '--before <date>',
      'remove rows written before this date (default: IDFLOW_AUDIT_RETENTION_DAYS ago)',
    )
    .action((options: { before?: string }) =>
      withDatabase(async (db, config) => {
        const days = config.audit.retentionDays;
        if (options.before === undefined && days === undefined)
          throw new Error('give --before <date> or set IDFLOW_AUDIT_RETENTION_DAYS');
        const before =
          options.before !== undefined
            ? parseBefore(options.before)
            : new Date(Date.now() - (days as number) * 86_400_000);
        const result = await pruneAudit(db, { before, actor: cliActor(), ...config.audit });
        if (!result.rowsPruned) console.log(`no audit rows before ${before.toISOString()}`);
        else
          console.log(
            `pruned ${result.rowsPruned} audit rows through row ${result.prunedThroughSeq}; checkpoint #${result.checkpointId} signed by key ${result.keyId}`,
          );
      }),
    );

  audit
    .command('checkpoint')
    .description("sign the chain's current head (a rewrite up to it no longer verifies)")
    .action(() =>
      withDatabase(async (db, config) => {
        const c = await writeCheckpoint(db, { actor: cliActor(), ...config.audit });
        console.log(`checkpoint #${c.checkpointId} of row ${c.headSeq} signed by key ${c.keyId}`);
      }),
    );

  audit
    .command('keygen')
    .description('make an Ed25519 key pair for checkpoints (printed as environment lines)')
    .action(() => {
      const keys = generateCheckpointKeys();
      console.error(
        `key ${keys.id}: keep IDFLOW_AUDIT_SIGNING_KEY secret; give IDFLOW_AUDIT_PUBLIC_KEY to auditors`,
      );
      console.log(`IDFLOW_AUDIT_SIGNING_KEY=${keys.privateKey}`);
      console.log(`IDFLOW_AUDIT_PUBLIC_KEY=${keys.publicKey}`);
    });
}
