/**
 * One account, one owner: a create-if-absent op that finds the account already there converges
 * it only when it is the same person's — its correlation attribute holds the owner's value.
 * Someone else's account, or one nobody owns (unless the connector says adopt), is a
 * TargetConflict that names the account and both owners' correlation values, never a name or
 * an address, and leaves the account untouched.
 */
import { connectorFailure } from '../errors';

export interface Correlation {
  attribute: string;
  adoptUnowned?: boolean | undefined;
}

/** The owner a call carries, checked against the connector's correlation setting. */
export function ownerOf(
  where: string,
  correlation: Correlation | undefined,
  owner: string | undefined,
): string | undefined {
  if (correlation && owner === undefined) {
    throw connectorFailure(
      'InvalidRequest',
      `${where}: owner is required: the connector records owners in ${correlation.attribute} (config.correlation)`,
    );
  }
  if (!correlation && owner !== undefined) {
    throw connectorFailure(
      'InvalidRequest',
      `${where}: owner is given, but the connector has no config.correlation to record it in`,
    );
  }
  return owner;
}

/**
 * Whether an existing `account` may be converged for `owner`: `own` when it is theirs, `adopt`
 * when it has no owner and the connector adopts such accounts; otherwise a TargetConflict.
 */
export function claim(
  where: string,
  account: string,
  correlation: Correlation | undefined,
  owner: string | undefined,
  current: string[],
): 'own' | 'adopt' {
  if (!correlation || owner === undefined) {
    throw connectorFailure(
      'TargetConflict',
      `${where}: ${account} exists, and without config.correlation there is no telling whose it is; it was left unchanged`,
      { account },
    );
  }
  const { attribute } = correlation;
  const details = { account, attribute, owner, existingOwners: current };
  if (current.length === 1 && current[0] === owner) return 'own';
  if (current.length === 0) {
    if (correlation.adoptUnowned) return 'adopt';
    throw connectorFailure(
      'TargetConflict',
      `${where}: ${account} exists with no ${attribute}, so it is not known to be ${attribute} ${owner}'s; it was left unchanged (config.correlation.adoptUnowned: true takes such accounts over)`,
      details,
    );
  }
  throw connectorFailure(
    'TargetConflict',
    `${where}: ${account} belongs to ${attribute} ${current.join(', ')}, not to ${attribute} ${owner}; it was left unchanged`,
    details,
  );
}
