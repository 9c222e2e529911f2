/**
 * Compiles a Role: who holds it (everyone, `birthright`, or the people a CEL condition over
 * `subject` and `now` selects) and what it grants on each connector: an account rendered over
 * the person, and literal entitlements, so what idflow manages is known without evaluating
 * anyone's roles.
 */
import type { CelTypes } from '../cel-check';
import type { Path } from '../diagnostics';
import { contentHash } from '../hash';
import {
  IR_VERSION,
  type AccountGrantIR,
  type Compiled,
  type RoleGrantIR,
  type RoleIR,
  type ValueIR,
} from '../ir';
import { describeShape } from '../shapes';
import type { RoleDocument, RoleGrant } from '../schema';
import { AccessChecker } from './access';
import type { Definitions, Entry, Reporter } from './report';
import { ValueCompiler } from './values';

type Account = NonNullable<RoleGrant['account']>;

class RoleCompiler {
  private readonly values: ValueCompiler;
  readonly access: AccessChecker;

  constructor(
    private readonly entry: Entry<RoleDocument>,
    defs: Definitions,
    private readonly report: Reporter,
    private readonly types: CelTypes,
  ) {
    this.values = new ValueCompiler(report, entry.sd);
    this.access = new AccessChecker(report, entry.sd, defs);
  }

  private error(path: Path, code: string, message: string, key = false): void {
    this.report.error(this.entry.sd, path, code, message, { key });
  }

  /** The condition that selects holders; undefined for a birthright role (or on problems). */
  holders(): { birthright: boolean; when?: string } {
    const { birthright, when } = this.entry.doc;
    const name = this.entry.doc.metadata.name;
    if (birthright === true && when !== undefined) {
      this.error(
        ['when'],
        'birthright-and-when',
        `a birthright role is held by everyone, so it takes no condition: drop 'when', or drop 'birthright: true' to hold it by the condition`,
        true,
      );
      return { birthright: true };
    }
    if (birthright === true) return { birthright: true };
    if (when === undefined) {
      this.error(
        birthright === false ? ['birthright'] : [],
        'no-holders',
        `role '${name}' says nobody holds it: add 'birthright: true' (everyone) or 'when:' (a condition on the person)`,
      );
      return { birthright: false };
    }
    const condition = this.values.condition(['when'], when, { types: this.types });
    return condition === undefined ? { birthright: false } : { birthright: false, when: condition };
  }

  grant(grant: RoleGrant, at: Path): RoleGrantIR | undefined {
    const connector = this.access.connector(grant.connector, [...at, 'connector'], true);
    let account: AccountGrantIR | undefined;
    let ok = true;
    if (grant.account && connector && !connector.access.accounts) {
      this.error(
        [...at, 'account'],
        'no-accounts',
        `connector '${grant.connector}' (type ${connector.spec.type}) holds no accounts a role can require; grant its entitlements only`,
        true,
      );
      ok = false;
    } else if (grant.account) {
      account = this.account(grant.account, [...at, 'account']);
      if (!account) ok = false;
    }
    const entitlements = connector
      ? this.access.entitlements(grant, at, connector, ['account'])
      : undefined;
    const listed = Object.keys(grant).filter((k) => k !== 'connector' && k !== 'account');
    if (!grant.account && listed.length === 0) {
      const keys = connector
        ? Object.values(connector.access.entitlements).map((k) => k.key)
        : ['groups'];
      this.error(
        at,
        'empty-grant',
        `this grant gives nothing on '${grant.connector}': add an account, ${keys.join(', ')} or both`,
      );
      return undefined;
    }
    if (!ok || !connector || !entitlements) return undefined;
    return {
      connector: grant.connector,
      connectorType: connector.spec.type,
      ...(account ? { account } : {}),
      entitlements: entitlements.map(({ kind, value }) => ({ kind, value })),
    };
  }

  private account(account: Account, at: Path): AccountGrantIR | undefined {
    const env = { types: this.types };
    const id = this.values.value([...at, 'id'], account.id, env, 'id');
    let ok = id !== undefined;
    if (id && !['string', 'dyn'].includes(id.shape as string)) {
      this.error(
        [...at, 'id'],
        'bad-account-id',
        `the account's name is text, but this gives ${describeShape(id.shape)}`,
      );
      ok = false;
    } else if (id && 'lit' in id.ir) {
      this.error(
        [...at, 'id'],
        'constant-account-id',
        `every holder would get the same account '${account.id}': derive its name from the person, like \${subject.attributes.username}`,
      );
      ok = false;
    }
    const attributes: Record<string, ValueIR> = {};
    for (const [key, raw] of Object.entries(account.attributes ?? {})) {
      const value = this.values.value([...at, 'attributes', key], raw, env, `attributes.${key}`);
      if (value) attributes[key] = value.ir;
      else ok = false;
    }
    return ok && id ? { id: id.ir, attributes } : undefined;
  }
}

export function compileRole(
  entry: Entry<RoleDocument>,
  defs: Definitions,
  report: Reporter,
  types: CelTypes,
): Compiled<RoleIR> | undefined {
  const { doc } = entry;
  const rc = new RoleCompiler(entry, defs, report, types);
  const { value: ir, clean } = report.clean((): RoleIR => {
    const holders = rc.holders();
    const seen = new Map<string, number>();
    const grants: RoleGrantIR[] = [];
    doc.grants.forEach((grant, i) => {
      const first = seen.get(grant.connector);
      if (first !== undefined) {
        report.error(
          entry.sd,
          ['grants', i, 'connector'],
          'duplicate-grant',
          `grant ${first + 1} of this role is on '${grant.connector}' already; put everything the role grants there in one grant`,
        );
        return;
      }
      seen.set(grant.connector, i);
      const compiled = rc.grant(grant, ['grants', i]);
      if (compiled) grants.push(compiled);
    });
    const description = doc.description ?? doc.metadata.description;
    return {
      irVersion: IR_VERSION,
      name: doc.metadata.name,
      title: doc.metadata.title ?? doc.metadata.name,
      ...(description !== undefined ? { description } : {}),
      ...holders,
      grants,
    };
  });
  if (!clean || rc.access.dependsOnRepaired) return undefined;
  return { ir, hash: contentHash(ir) };
}
