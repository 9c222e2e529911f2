/**
 * `deriveUsername`: a username that is free in the directory for a person. The person's own
 * account (found by the correlation attribute) comes first, so a retried joiner lands on the
 * account its first attempt made; otherwise the first of `jsmith`, `jsmith2`, `jsmith3`, … that
 * no account has, asked in batches. Read-only: the run's history keeps the answer, so a replay
 * never asks again.
 */
import type * as z from 'zod';
import type { ldap } from '../../src/connectors/ldap';
import { connectorFailure } from '../errors';
import { values, type Directory } from './ldap-directory';
import { DEFAULT_USERNAME_LENGTH, usernameBase, usernameCandidate } from './username';

type Op = (typeof ldap.ops)['deriveUsername'];

/** How many candidates one search asks about, and how many there are at most. */
const BATCH = 50;
const CANDIDATES = 1000;

export async function deriveUsername(
  dir: Directory,
  a: z.infer<Op['args']>,
  where: string,
): Promise<z.infer<Op['result']>> {
  const correlation = dir.cfg.correlation;
  if (!correlation) {
    throw connectorFailure(
      'ConnectorNotConfigured',
      `${where}: needs config.correlation, to tell the person's own account from someone else's`,
    );
  }
  const maxLength = a.maxLength ?? DEFAULT_USERNAME_LENGTH;
  // the directory matches owners without case; person ids are exact (P-1 is not p-1)
  const own = (await dir.findAll(correlation.attribute, a.owner))
    .filter((e) => values(e, correlation.attribute).includes(a.owner))
    .map((e) => values(e, dir.idAttribute)[0])
    .filter((id): id is string => id !== undefined)
    .sort();
  if (own[0] !== undefined) return { username: own[0], existing: true };
  const base = usernameBase(a.givenName, a.familyName, a.owner, maxLength);
  for (let first = 1; first <= CANDIDATES; first += BATCH) {
    const batch = [
      ...new Set(
        Array.from({ length: BATCH }, (_, i) => usernameCandidate(base, first + i, maxLength)),
      ),
    ];
    const taken = await dir.taken(batch);
    const free = batch.find((c) => !taken.has(c));
    if (free !== undefined) return { username: free, existing: false };
  }
  throw connectorFailure(
    'TargetConflict',
    `${where}: the first ${CANDIDATES} usernames for ${correlation.attribute} ${a.owner} are all taken`,
  );
}
