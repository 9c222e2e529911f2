/**
 * `idflow tokens create|list|rotate|revoke`: API tokens (stored hashed; a token is shown once).
 * `list` warns about tokens expired or ending soon; `rotate` replaces one without a gap.
 */
import type { Command } from 'commander';
import { parseDuration } from '../../dsl/duration';
import { EventSource } from '../../model/event';
import { DEFAULT_WARN_DAYS } from '../../gateway/services/token-status';
import { SCOPES, TokenService, type TokenOverview } from '../../gateway/services/tokens';
import { isPersonId, PERSON_ID_MESSAGE } from '../../model/person';
import { table } from '../access-view';
import { cliActor, withDatabase } from '../runtime';

function parseScopes(value: string): string[] {
  const scopes = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length)
    throw new Error(`unknown scope(s) ${unknown.join(', ')}; scopes are ${SCOPES.join(', ')}`);
  return scopes;
}

/** Milliseconds of an option's duration (`90d`, `1h30m`), or an error naming the option. */
function durationOption(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0)
    throw new Error(`${option} must be a duration like 90d or 1h30m, not '${value}'`);
  return ms;
}

function sourceOption(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const parsed = EventSource.safeParse(value);
  if (!parsed.success)
    throw new Error(`--source ${parsed.error.issues[0]?.message ?? 'is not valid'}`);
  return parsed.data;
}

const iso = (d: Date | null) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '');

/** The rows of `idflow tokens list`: one line per token, the warning where it needs attention. */
export function renderTokens(tokens: TokenOverview[]): string {
  return table(
    ['ID', 'NAME', 'STATE', 'EXPIRES', 'WARNING', 'LAST USED', 'SCOPES', 'PERSON', 'SOURCE'],
    tokens.map((t) => [
      t.id,
      t.name,
      t.state,
      t.expiresAt ? iso(t.expiresAt) : 'never',
      t.warning ? `! ${t.warning}` : '',
      t.lastUsedAt ? iso(t.lastUsedAt) : 'never',
      t.scopes.join(','),
      t.personId ?? '-',
      t.source ?? '-',
    ]),
    '',
  );
}

interface CreateOptions {
  name: string;
  scopes: string;
  person?: string;
  source?: string;
  expires?: string;
}

export function registerTokens(program: Command): void {
  const tokens = program.command('tokens').description('manage API tokens');
  tokens
    .command('create')
    .description('create a token and print it (once)')
    .requiredOption('--name <name>', 'what the token is for, e.g. workday-integration')
    .option(
      '--scopes <scopes>',
      `comma-separated: ${SCOPES.join(', ')}`,
      'events:write,events:read',
    )
    .option('--person <id>', 'the person the token acts as (approvers)')
    .option('--source <name>', 'the event source the token sends as (it may send no other)')
    .option('--expires <duration>', 'lifetime, e.g. 90d')
    .action(async (options: CreateOptions) => {
      const scopes = parseScopes(options.scopes);
      if (options.person !== undefined && !isPersonId(options.person)) {
        throw new Error(`--person ${PERSON_ID_MESSAGE}, not ${JSON.stringify(options.person)}`);
      }
      const source = sourceOption(options.source);
      const ms = durationOption('--expires', options.expires);
      await withDatabase(async (db) => {
        const { token, row } = await new TokenService(db).create({
          name: options.name,
          scopes,
          ...(options.person ? { personId: options.person } : {}),
          ...(source ? { source } : {}),
          ...(ms ? { expiresAt: new Date(Date.now() + ms) } : {}),
          actor: cliActor(),
        });
        console.error(
          `token ${row.id} (${row.name}, scopes ${scopes.join(', ')}${source ? `, source ${source}` : ''}); it is shown only now:`,
        );
        console.log(token);
      });
    });
  tokens
    .command('list')
    .description('list tokens (never their values), warning about those expired or ending soon')
    .option(
      '--warn-days <days>',
      `warn about tokens ending within this many days (default ${DEFAULT_WARN_DAYS})`,
    )
    .option('--json', 'print the tokens as JSON')
    .action((options: { warnDays?: string; json?: boolean }) => {
      const days = options.warnDays === undefined ? DEFAULT_WARN_DAYS : Number(options.warnDays);
      if (!/^\d+$/.test(options.warnDays ?? '0') || days > 3650)
        throw new Error(
          `--warn-days must be a whole number of days from 0 to 3650, not '${options.warnDays}'`,
        );
      return withDatabase(async (db) => {
        const list = await new TokenService(db).overview(new Date(), days * 86_400_000);
        if (options.json) {
          console.log(JSON.stringify(list, null, 2));
          return;
        }
        if (list.length === 0) {
          console.error('no tokens; create one with idflow tokens create');
          return;
        }
        console.log(renderTokens(list));
        const attention = list.filter((t) => t.state === 'expired' || t.state === 'expiring');
        if (attention.length)
          console.error(
            `\n${attention.length} token(s) expired or ending within ${days} days: rotate them with idflow tokens rotate <id|name>`,
          );
      });
    });
  tokens
    .command('rotate')
    .description(
      'replace a live token with a new one (same name, scopes, person, source) and end the old one',
    )
    .argument('<id|name>', "the token's id, or its name when one live token has it")
    .option(
      '--overlap <duration>',
      'keep the old token working this long (e.g. 1h) so senders can switch; default: revoke it now',
    )
    .option(
      '--expires-in <duration>',
      "the new token's lifetime (e.g. 90d); default: the old token's lifetime, or none",
    )
    .action((idOrName: string, options: { overlap?: string; expiresIn?: string }) => {
      const overlapMs = durationOption('--overlap', options.overlap);
      const expiresInMs = durationOption('--expires-in', options.expiresIn);
      return withDatabase(async (db) => {
        const { token, row, old, oldEndsAt } = await new TokenService(db).rotate({
          token: idOrName,
          ...(overlapMs ? { overlapMs } : {}),
          ...(expiresInMs ? { expiresInMs } : {}),
          actor: cliActor(),
        });
        const ends = overlapMs
          ? `keeps working until ${iso(oldEndsAt)}`
          : 'is revoked (senders using it get 401 now)';
        console.error(
          `token ${row.id} (${row.name}) replaces ${old.id}, which ${ends}; ${row.expiresAt ? `the new token expires ${iso(row.expiresAt)}` : 'the new token does not expire'}. It is shown only now:`,
        );
        console.log(token);
      });
    });
  tokens
    .command('revoke')
    .description('revoke a token by id')
    .argument('<id>')
    .action((id: string) =>
      withDatabase(async (db) => {
        if (!(await new TokenService(db).revoke(id, cliActor()))) throw new Error(`no token ${id}`);
        console.error(`revoked ${id}`);
      }),
    );
}
