/**
 * Compiles a SodRule: two sides (roles, and entitlements however granted) that one person may
 * not hold together, and what happens to the grant that would complete the pair: refused
 * (`block`) or held until someone approves it (`approval`, compiled like an approval step's).
 */
import type { CelTypes } from '../cel-check';
import { suggest, type Path } from '../diagnostics';
import { contentHash } from '../hash';
import {
  IR_VERSION,
  type ApprovalStepIR,
  type Compiled,
  type EntitlementRefIR,
  type SodRuleIR,
  type SodSideIR,
} from '../ir';
import type { SodRuleDocument } from '../schema';
import { AccessChecker } from './access';
import { approvalIR } from './approval';
import { isBroken, type Definitions, type Entry, type Reporter } from './report';
import { ValueCompiler } from './values';

type Side = SodRuleDocument['between'][number];

function side(
  entry: Entry<SodRuleDocument>,
  defs: Definitions,
  report: Reporter,
  access: AccessChecker,
  s: Side,
  at: Path,
): SodSideIR | undefined {
  const error = (path: Path, code: string, message: string) =>
    report.error(entry.sd, path, code, message);
  let ok = true;
  const roles = s.roles ?? [];
  const seen = new Set<string>();
  roles.forEach((role, i) => {
    if (!defs.roles.has(role) && !isBroken(defs, 'Role', role)) {
      error(
        [...at, 'roles', i],
        'unknown-role',
        `no role named '${role}'${suggest(role, defs.roles.keys(), 'roles')}`,
      );
      ok = false;
    } else if (seen.has(role)) {
      error([...at, 'roles', i], 'duplicate-role', `role '${role}' is listed twice on this side`);
      ok = false;
    }
    seen.add(role);
  });
  const entitlements: EntitlementRefIR[] = [];
  (s.entitlements ?? []).forEach((set, j) => {
    const where = [...at, 'entitlements', j];
    const connector = access.connector(set.connector, [...where, 'connector'], false);
    if (!connector) {
      ok = false;
      return;
    }
    const found = access.entitlements(set, where, connector);
    if (!found) ok = false;
    else if (found.length === 0) {
      error(where, 'empty-entitlements', `this names no entitlements on '${set.connector}'`);
      ok = false;
    } else {
      for (const { kind, value } of found)
        entitlements.push({ connector: set.connector, kind, value });
    }
  });
  if (roles.length === 0 && (s.entitlements ?? []).length === 0) {
    error(
      at,
      'empty-side',
      'this side names nothing: give it roles, entitlements or both (what one person may not hold together with the other side)',
    );
    return undefined;
  }
  return ok ? { roles, entitlements } : undefined;
}

export function compileSodRule(
  entry: Entry<SodRuleDocument>,
  defs: Definitions,
  report: Reporter,
  types: CelTypes,
): Compiled<SodRuleIR> | undefined {
  const { doc, sd } = entry;
  const access = new AccessChecker(report, sd, defs);
  const values = new ValueCompiler(report, sd);
  const { value: ir, clean } = report.clean((): SodRuleIR | undefined => {
    const [left, right] = doc.between.map((s, i) =>
      side(entry, defs, report, access, s, ['between', i]),
    );
    const leftRoles = new Set(doc.between[0]?.roles ?? []);
    (doc.between[1]?.roles ?? []).forEach((role, i, all) => {
      if (leftRoles.has(role) && all.indexOf(role) === i) {
        report.error(
          sd,
          ['between', 1, 'roles', i],
          'role-on-both-sides',
          `role '${role}' is on both sides, so everyone who holds it would break this rule`,
        );
      }
    });
    let approval: ApprovalStepIR | undefined;
    if (doc.action === 'approval' && !doc.approval) {
      report.error(
        sd,
        ['action'],
        'missing-approval',
        "action 'approval' needs an approval: who decides when one person would hold both sides",
      );
    } else if (doc.action === 'block' && doc.approval) {
      report.error(
        sd,
        ['approval'],
        'approval-with-block',
        "an approval is asked only with action 'approval'; with 'block' the grant that completes the pair is refused",
        { key: true },
      );
    } else if (doc.approval) {
      approval = approvalIR(
        { report, sd, values, defs, env: { types } },
        doc.approval,
        ['approval'],
        {
          id: '',
          title: doc.metadata.title ?? doc.metadata.name,
        },
      );
    }
    if (!left || !right) return undefined;
    const description = doc.description ?? doc.metadata.description;
    return {
      irVersion: IR_VERSION,
      name: doc.metadata.name,
      title: doc.metadata.title ?? doc.metadata.name,
      ...(description !== undefined ? { description } : {}),
      left,
      right,
      action: doc.action,
      ...(approval ? { approval } : {}),
    };
  });
  if (!clean || !ir || access.dependsOnRepaired) return undefined;
  return { ir, hash: contentHash(ir) };
}
