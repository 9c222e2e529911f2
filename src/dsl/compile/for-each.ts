/**
 * The `forEach` step: a list of steps for every person or account of the identity store that a
 * filter selects, or for every item of a list value. The item steps see the item under its
 * name (`account`, `person`, `item` or the step's `as`) and everything the flow had before the
 * step; what they set stays with the item. Steps that wait on people or time (approval, wait,
 * correlate) and steps that fan out again (parallel, forEach) do not run per item: a batch of
 * items must finish on its own.
 */
import { CONNECTOR_TYPES, connectorType } from '../../connectors/registry';
import { suggest, type Path } from '../diagnostics';
import type { BlastRadiusIR, ForEachStepIR, PopulationIR, StepIR } from '../ir';
import {
  ACCOUNT_ITEM_SHAPE,
  describeShape,
  isListShape,
  PERSON_ITEM_SHAPE,
  type Shape,
} from '../shapes';
import { stepKind, type ForEachStep, type Step } from '../schema';
import { cloneState, type FlowCompiler, type FlowState } from './flow';
import type { StepInfo } from './values';

/** Without a `blastRadius` on the step or the flow: at most 100 items, and at most 10 %. */
export const DEFAULT_BLAST_RADIUS: Required<BlastRadiusIR> = { max: 100, maxPercent: 10 };

const NOT_PER_ITEM = new Set(['approval', 'wait', 'correlate', 'parallel', 'forEach']);
/**
 * Names an item cannot take that CEL itself would let a variable have: what expressions already
 * read, the literals and `in`, and type conversions a variable would shadow. (CEL refuses its
 * other type names and reserved words as variables: `canName` catches those.)
 */
const RESERVED = new Set([
  ...['event', 'subject', 'vars', 'steps', 'now'],
  ...['true', 'false', 'null', 'in'],
  ...['dyn', 'timestamp', 'duration', 'optional_type'],
]);

/** Steps inside `steps` (nested ones included) that cannot run per item, with where they are. */
function notPerItem(steps: readonly Step[], path: Path): Array<{ kind: string; path: Path }> {
  return steps.flatMap((step, i) => {
    const at = [...path, i];
    const kind = stepKind(step);
    if (NOT_PER_ITEM.has(kind)) return [{ kind, path: [...at, kind] }];
    if ('reconcile' in step && step.reconcile.grace)
      return [{ kind: 'reconcile with a grace period', path: [...at, 'reconcile', 'grace'] }];
    if ('if' in step) {
      return [
        ...notPerItem(step.if.then, [...at, 'if', 'then']),
        ...(step.if.else ? notPerItem(step.if.else, [...at, 'if', 'else']) : []),
      ];
    }
    if ('switch' in step) {
      return [
        ...step.switch.cases.flatMap((c, j) =>
          notPerItem(c.then, [...at, 'switch', 'cases', j, 'then']),
        ),
        ...(step.switch.default
          ? notPerItem(step.switch.default, [...at, 'switch', 'default'])
          : []),
      ];
    }
    return [];
  });
}

/** What the compiled item steps may take away: the op effects they name, and `reconcile`. */
export function effectsOf(steps: readonly StepIR[]): string[] {
  const found = new Set<string>();
  const walk = (list: readonly StepIR[]): void => {
    for (const step of list) {
      if (step.kind === 'action') {
        const effect = connectorType(step.connectorType)?.ops[step.op]?.effect;
        if (effect) found.add(`${step.connector}.${step.op}`);
      } else if (step.kind === 'reconcile') found.add('reconcile');
      else if (step.kind === 'if') {
        walk(step.then);
        walk(step.else);
      } else if (step.kind === 'switch') {
        step.cases.forEach((c) => walk(c.then));
        walk(step.default);
      }
    }
  };
  walk(steps);
  return [...found].sort();
}

function population(
  fc: FlowCompiler,
  step: ForEachStep,
  at: Path,
  state: FlowState,
  info: StepInfo,
): { over: PopulationIR; shape: Shape } | undefined {
  const f = step.forEach;
  if (f.items !== undefined) {
    const compiled = fc.values.value([...at, 'items'], f.items, fc.env(state, info), 'items');
    if (!compiled) return undefined;
    if (!isListShape(compiled.shape) && compiled.shape !== 'dyn') {
      fc.error(
        [...at, 'items'],
        'bad-items',
        `items must be a list, but this gives ${describeShape(compiled.shape)}`,
      );
      return undefined;
    }
    const shape = isListShape(compiled.shape) ? compiled.shape.list : 'dyn';
    return { over: { kind: 'items', items: compiled.ir }, shape };
  }
  if (f.accounts !== undefined) {
    const name = f.accounts.connector;
    if (name !== undefined) {
      const connector = fc.defs.connectors.get(name);
      const names = [...fc.defs.connectors.keys()];
      if (!connector) {
        fc.error(
          [...at, 'accounts', 'connector'],
          'unknown-connector',
          `no connector named '${name}'${suggest(name, names, 'connectors')}`,
        );
        return undefined;
      }
      if (!connectorType(connector.doc.type)?.access?.accounts) {
        fc.error(
          [...at, 'accounts', 'connector'],
          'no-accounts',
          `connector '${name}' (type ${connector.doc.type}) keeps no accounts idflow records; accounts are kept by connectors of types ${accountTypes()}`,
        );
        return undefined;
      }
    }
    return {
      over: { kind: 'accounts', ...(name !== undefined ? { connector: name } : {}) },
      shape: ACCOUNT_ITEM_SHAPE,
    };
  }
  return { over: { kind: 'persons' }, shape: PERSON_ITEM_SHAPE };
}

/** The connector types whose accounts idflow records (roles may grant accounts there). */
function accountTypes(): string {
  return Object.values(CONNECTOR_TYPES)
    .filter((spec) => spec.access?.accounts)
    .map((spec) => spec.type)
    .join(', ');
}

export function compileForEach(
  fc: FlowCompiler,
  step: ForEachStep,
  path: Path,
  state: FlowState,
  info: StepInfo,
): { ir?: StepIR; state: FlowState } {
  const at = [...path, 'forEach'];
  const f = step.forEach;
  const after = { ...cloneState(state), done: new Set([...state.done, step.id]) };
  for (const inner of notPerItem(f.steps, [...at, 'steps'])) {
    const article = /^[aeiou]/.test(inner.kind) ? 'an' : 'a';
    fc.error(
      inner.path,
      'not-per-item',
      `${article} ${inner.kind} step cannot run for each item of step '${step.id}': items run in batches that must finish on their own (no approvals, waits, correlations or nested fan-out); put it before or after the forEach`,
      true,
    );
  }
  const { value: ir, clean } = fc.report.clean((): ForEachStepIR | undefined => {
    const as = f.as ?? (f.items !== undefined ? 'item' : f.accounts ? 'account' : 'person');
    const reserved = RESERVED.has(as) || !fc.canName(as);
    if (reserved) {
      fc.error(
        [...at, 'as'],
        'reserved-name',
        `'${as}' already names something in expressions (event, subject, vars, steps, now, a CEL type or keyword); call the item something else, like account`,
        true,
      );
    }
    const pop = population(fc, step, at, state, info);
    if (!pop || reserved) {
      // the item steps are still checked: with an item of unknown shape, or none when its
      // name is taken
      const check = () => fc.list(f.steps, [...at, 'steps'], cloneState(state));
      if (reserved) check();
      else fc.withItem({ [as]: 'dyn' }, check);
      return undefined;
    }
    const over = pop.over;
    const where = f.persons?.where ?? f.accounts?.where;
    if (where !== undefined && over.kind !== 'items') {
      const kind = over.kind === 'persons' ? 'persons' : 'accounts';
      const filter = fc.values.condition(
        [...at, kind, 'where'],
        where,
        fc.filterEnv({ [as]: pop.shape }),
      );
      if (filter !== undefined) over.where = filter;
    }
    const inner = fc.withItem({ [as]: pop.shape }, () =>
      fc.list(f.steps, [...at, 'steps'], cloneState(state)),
    );
    const collect =
      f.collect === undefined
        ? undefined
        : fc.withItem({ [as]: pop.shape }, () =>
            fc.values.value([...at, 'collect'], f.collect, fc.env(inner.state, info), 'collect'),
          );
    const effects = effectsOf(inner.ir);
    const limits = f.blastRadius ?? fc.entry.doc.blastRadius ?? DEFAULT_BLAST_RADIUS;
    return {
      kind: 'forEach',
      id: step.id,
      title: step.title ?? step.id,
      over,
      as: as,
      itemShape: pop.shape,
      concurrency: f.concurrency ?? 10,
      batchSize: f.batchSize ?? 200,
      ...(f.maxFailures !== undefined ? { maxFailures: f.maxFailures } : {}),
      ...(collect ? { collect: collect.ir } : {}),
      ...(effects.length > 0
        ? {
            guard: {
              effects,
              ...(limits.max !== undefined ? { max: limits.max } : {}),
              ...(limits.maxPercent !== undefined ? { maxPercent: limits.maxPercent } : {}),
            },
          }
        : {}),
      steps: inner.ir,
      timeoutMs: 120_000,
      retry: {
        maximumAttempts: 5,
        initialIntervalMs: 1_000,
        backoffCoefficient: 2,
        maximumIntervalMs: 30_000,
      },
    };
  });
  return clean && ir ? { ir, state: after } : { state: after };
}
