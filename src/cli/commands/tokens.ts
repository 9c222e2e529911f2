/** `idflow tokens create|list|revoke`: API tokens (stored hashed; a token is shown once). */
import type { Command } from 'commander';
import { parseDuration } from '../../dsl/duration';
import { SCOPES, TokenService } from '../../gateway/services/tokens';
import { isPersonId, PERSON_ID_MESSAGE } from '../../model/person';
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

interface CreateOptions {
  name: string;
  scopes: string;
  person?: string;
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
    .option('--expires <duration>', 'lifetime, e.g. 90d')
    .action(async (options: CreateOptions) => {
      const scopes = parseScopes(options.scopes);
      if (options.person !== undefined && !isPersonId(options.person)) {
        throw new Error(`--person ${PERSON_ID_MESSAGE}, not ${JSON.stringify(options.person)}`);
      }
      const ms = options.expires === undefined ? undefined : parseDuration(options.expires);
      if (options.expires !== undefined && ms === undefined) {
        throw new Error(`--expires must be a duration like 90d, not '${options.expires}'`);
      }
      await withDatabase(async (db) => {
        const { token, row } = await new TokenService(db).create({
          name: options.name,
          scopes,
          ...(options.person ? { personId: options.person } : {}),
          ...(ms ? { expiresAt: new Date(Date.now() + ms) } : {}),
          actor: cliActor(),
        });
        console.error(
          `token ${row.id} (${row.name}, scopes ${scopes.join(', ')}); it is shown only now:`,
        );
        console.log(token);
      });
    });
  tokens
    .command('list')
    .description('list tokens (never their values)')
    .action(() =>
      withDatabase(async (db) => {
        for (const t of await new TokenService(db).list()) {
          const state = t.revokedAt
            ? 'revoked'
            : t.expiresAt && t.expiresAt < new Date()
              ? 'expired'
              : 'active';
          const used = t.lastUsedAt?.toISOString() ?? 'never used';
          console.log(
            [t.id, t.name, t.scopes.join(','), t.personId ?? '-', state, used].join('\t'),
          );
        }
      }),
    );
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
