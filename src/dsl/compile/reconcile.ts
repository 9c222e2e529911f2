/**
 * The `reconcile` step: brings one person's access on some connectors (default: every one an
 * active role grants on) to what their roles grant. What it may keep for a grace period must be
 * something a role grants, so a mover's old access is kept only where a role gave it.
 */
import { REMOTE_DEFAULTS } from '../../connectors/common';
import type { Path } from '../diagnostics';
import type { EntitlementRefIR, ReconcileStepIR, RoleIR, StepIR, ValueIR } from '../ir';
import { describeShape } from '../shapes';
import type { ReconcileStep } from '../schema';
import { AccessChecker } from './access';
import { cloneState, type FlowCompiler, type FlowState } from './flow';
import { ms, retryOf } from './retry';
import type { StepInfo } from './values';

/** Default timeout of each read and apply activity of a reconcile step. */
export const RECONCILE_TIMEOUT_MS = 60_000;

function granted(roles: ReadonlyMap<string, RoleIR>, ref: EntitlementRefIR): boolean {
  for (const role of roles.values()) {
    for (const grant of role.grants) {
      if (grant.connector !== ref.connector) continue;
      if (grant.entitlements.some((e) => e.kind === ref.kind && e.value === ref.value)) return true;
    }
  }
  return false;
}

export function compileReconcile(
  fc: FlowCompiler,
  step: ReconcileStep,
  path: Path,
  state: FlowState,
  info: StepInfo,
): { ir?: StepIR; state: FlowState } {
  const at = [...path, 'reconcile'];
  const r = step.reconcile;
  const after = { ...cloneState(state), done: new Set([...state.done, step.id]) };
  const access = new AccessChecker(fc.report, fc.sd, fc.defs);
  const { value: ir, clean } = fc.report.clean((): ReconcileStepIR | undefined => {
    let person: ValueIR | undefined = { expr: 'subject.id' };
    if (r.person !== undefined) {
      const compiled = fc.values.value([...at, 'person'], r.person, fc.env(state, info), 'person');
      person = compiled?.ir;
      if (compiled && !['string', 'dyn'].includes(compiled.shape as string)) {
        fc.error(
          [...at, 'person'],
          'bad-person',
          `person is a person id (text), but this gives ${describeShape(compiled.shape)}`,
        );
      }
    }
    const connectors = r.connectors ?? [];
    connectors.forEach((name, i) => {
      const where = [...at, 'connectors', i];
      if (connectors.indexOf(name) < i)
        fc.error(where, 'duplicate-connector', `connector '${name}' is listed twice`);
      else access.connector(name, where, true);
    });
    let grace: ReconcileStepIR['grace'];
    if (r.grace) {
      const keep: EntitlementRefIR[] = [];
      r.grace.keep.forEach((set, j) => {
        const where = [...at, 'grace', 'keep', j];
        const connector = access.connector(set.connector, [...where, 'connector'], false);
        if (connectors.length && !connectors.includes(set.connector)) {
          fc.error(
            [...where, 'connector'],
            'keep-outside-reconcile',
            `grace keeps access on '${set.connector}', which this step does not reconcile (it reconciles ${[...new Set(connectors)].join(', ')})`,
          );
        }
        if (!connector) return;
        const found = access.entitlements(set, where, connector) ?? [];
        if (found.length === 0 && Object.keys(set).length === 1) {
          fc.error(where, 'empty-entitlements', `this keeps nothing on '${set.connector}'`);
        }
        for (const { kind, value, path: written } of found) {
          const ref = { connector: set.connector, kind, value };
          const roles = fc.defs.compiledRoles;
          if (roles && !granted(roles, ref)) {
            fc.error(
              written,
              'keep-not-granted',
              `no role grants ${kind} '${value}' on '${set.connector}'; grace keeps only what roles grant`,
            );
          }
          keep.push(ref);
        }
      });
      grace = { forMs: ms(r.grace.for) ?? 0, keep };
    }
    if (!person) return undefined;
    return {
      kind: 'reconcile',
      id: step.id,
      title: step.title ?? step.id,
      person,
      connectors,
      ...(grace ? { grace } : {}),
      dryRun: r.dryRun ?? false,
      timeoutMs: ms(r.timeout) ?? RECONCILE_TIMEOUT_MS,
      retry: retryOf(REMOTE_DEFAULTS.retry, r.retry),
    };
  });
  if (access.dependsOnRepaired) fc.dependsOnRepaired = true;
  return clean && ir ? { ir, state: after } : { state: after };
}
