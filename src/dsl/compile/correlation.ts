/**
 * Compiles a Correlation (rules that match a record to a person) and the `correlate` step that
 * uses one. A rule names person fields and, for each, a CEL expression over `record` giving the
 * text the field must equal: one equality lookup per rule on idflow's persons table, with the
 * values as query parameters. The step inlines the Correlation's IR, so a run keeps the rules it
 * started with.
 */
import { REMOTE_DEFAULTS } from '../../connectors/common';
import { CelTypes } from '../cel-check';
import { didYouMean, suggest, type Path } from '../diagnostics';
import { contentHash } from '../hash';
import {
  IR_VERSION,
  type Compiled,
  type CorrelateStepIR,
  type CorrelationIR,
  type CorrelationRuleIR,
  type StepIR,
  type ValueIR,
} from '../ir';
import { ACCOUNT_RECORD_SHAPE, describeShape, PERSON_RECORD_SHAPE, type Shape } from '../shapes';
import type { CorrelateStep, CorrelationDocument } from '../schema';
import { CORRELATION_FIELDS, isCorrelationField } from '../correlation-fields';
import { cloneState, type FlowCompiler, type FlowState } from './flow';
import { isBroken, type Definitions, type Entry, type Reporter } from './report';
import { ms, retryOf } from './retry';
import { ValueCompiler, type StepInfo } from './values';

/** Default timeout of the correlate activity (a few lookups on idflow's database). */
export const CORRELATE_TIMEOUT_MS = 10_000;

const RECORD_TYPES = {
  person: CelTypes.create({ record: PERSON_RECORD_SHAPE }),
  account: CelTypes.create({ record: ACCOUNT_RECORD_SHAPE }),
};

function isText(shape: Shape): boolean {
  return shape === 'string' || shape === 'dyn';
}

export function compileCorrelation(
  entry: Entry<CorrelationDocument>,
  report: Reporter,
): Compiled<CorrelationIR> | undefined {
  const { doc, sd } = entry;
  const values = new ValueCompiler(report, sd);
  const types = RECORD_TYPES[doc.for];
  const { value: ir, clean } = report.clean((): CorrelationIR => {
    const seen = new Map<string, number>();
    const rules: CorrelationRuleIR[] = [];
    doc.rules.forEach((rule, i) => {
      const at: Path = ['rules', i];
      const first = seen.get(rule.name);
      if (first !== undefined) {
        report.error(
          sd,
          [...at, 'name'],
          'duplicate-rule',
          `rule ${first + 1} of this correlation is named '${rule.name}' already`,
        );
      }
      seen.set(rule.name, i);
      const fields: CorrelationRuleIR['fields'] = [];
      for (const [field, expr] of Object.entries(rule.fields)) {
        const where = [...at, 'fields', field];
        if (!isCorrelationField(field)) {
          report.error(
            sd,
            where,
            'unknown-person-field',
            `a person has no field '${field}' to match on${didYouMean(field, CORRELATION_FIELDS)}; match on ${CORRELATION_FIELDS.join(', ')} or attributes.<name>`,
            { key: true },
          );
          continue;
        }
        const checked = values.expression(where, expr, { types });
        if (!checked) continue;
        if (!isText(checked.shape)) {
          report.error(
            sd,
            where,
            'bad-correlation-value',
            `person field '${field}' is compared with text, but this gives ${describeShape(checked.shape)}; convert it, like string(…)`,
          );
          continue;
        }
        fields.push({ field, expr: checked.canonical });
      }
      rules.push({ name: rule.name, fields });
    });
    const description = doc.description ?? doc.metadata.description;
    return {
      irVersion: IR_VERSION,
      name: doc.metadata.name,
      title: doc.metadata.title ?? doc.metadata.name,
      ...(description !== undefined ? { description } : {}),
      for: doc.for,
      rules,
    };
  });
  if (!clean) return undefined;
  return { ir, hash: contentHash(ir) };
}

function correlationOf(
  fc: FlowCompiler,
  defs: Definitions,
  name: string,
  at: Path,
): CorrelationIR | undefined {
  const compiled = defs.compiledCorrelations?.get(name);
  if (compiled) return compiled;
  const entry = defs.correlations.get(name);
  if (entry) {
    // its own errors are reported where it is defined
    fc.dependsOnRepaired = true;
    return undefined;
  }
  if (isBroken(defs, 'Correlation', name)) {
    fc.dependsOnRepaired = true;
    return undefined;
  }
  const names = [...defs.correlations.keys()];
  fc.error(
    at,
    'unknown-correlation',
    `no correlation named '${name}'${names.length ? suggest(name, names, 'correlations') : ' (no Correlation documents are defined)'}`,
  );
  return undefined;
}

export function compileCorrelate(
  fc: FlowCompiler,
  step: CorrelateStep,
  path: Path,
  state: FlowState,
  info: StepInfo,
): { ir?: StepIR; state: FlowState } {
  const at = [...path, 'correlate'];
  const c = step.correlate;
  const after = { ...cloneState(state), done: new Set([...state.done, step.id]) };
  const { value: ir, clean } = fc.report.clean((): CorrelateStepIR | undefined => {
    const correlation = correlationOf(fc, fc.defs, c.using, [...at, 'using']);
    const env = fc.env(state, info);
    const record = fc.values.value([...at, 'record'], c.record, env, 'record');
    if (record && !(record.shape === 'dyn' || typeof record.shape === 'object')) {
      fc.error(
        [...at, 'record'],
        'bad-record',
        `record is the record to correlate (a map, like \${subject}), but this gives ${describeShape(record.shape)}`,
      );
    }
    const onNoMatch = c.onNoMatch ?? (correlation?.for === 'account' ? 'orphan' : 'fail');
    if (correlation?.for === 'account' && onNoMatch === 'create') {
      fc.error(
        [...at, 'onNoMatch'],
        'create-for-account',
        `correlation '${c.using}' matches accounts; an account matching nobody is an orphan, never a new person: use orphan or fail`,
      );
    }
    let link: CorrelateStepIR['link'] | undefined;
    if (c.link) {
      const source = fc.values.value([...at, 'link', 'source'], c.link.source, env, 'source');
      const id = fc.values.value([...at, 'link', 'id'], c.link.id, env, 'id');
      for (const [key, v] of [
        ['source', source],
        ['id', id],
      ] as const) {
        if (v && !isText(v.shape)) {
          fc.error(
            [...at, 'link', key],
            'bad-link',
            `link ${key} is text, but this gives ${describeShape(v.shape)}`,
          );
        }
      }
      if (source && id) link = { source: source.ir, id: id.ir };
    } else if (correlation?.for === 'person') {
      link = { source: { expr: 'event.source' }, id: { expr: 'subject.id' } };
    }
    if (!correlation || !record || (c.link && !link)) return undefined;
    const recordIr: ValueIR = record.ir;
    return {
      kind: 'correlate',
      id: step.id,
      title: step.title ?? step.id,
      correlation,
      record: recordIr,
      ...(link ? { link } : {}),
      onNoMatch,
      timeoutMs: ms(c.timeout) ?? CORRELATE_TIMEOUT_MS,
      retry: retryOf(REMOTE_DEFAULTS.retry, c.retry),
    };
  });
  return clean && ir ? { ir, state: after } : { state: after };
}
