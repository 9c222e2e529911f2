/**
 * Compiles a Policy: which flows run for which events, and what each event does to runs still
 * pending for the person (`pending`, checked by the schema). Conditions see the event
 * (attributes as a free-form map: no flow is chosen yet), the subject and `now`.
 */
import type { CelTypes } from '../cel-check';
import { suggest } from '../diagnostics';
import { contentHash } from '../hash';
import { IR_VERSION, type Compiled, type PolicyIR, type RuleIR } from '../ir';
import type { PolicyDocument } from '../schema';
import { isBroken, type Definitions, type Entry, type Reporter } from './report';
import { ValueCompiler } from './values';

export function compilePolicy(
  entry: Entry<PolicyDocument>,
  defs: Definitions,
  report: Reporter,
  types: CelTypes,
): Compiled<PolicyIR> | undefined {
  const { doc, sd } = entry;
  const values = new ValueCompiler(report, sd);
  const { value: rules, clean } = report.clean(() => {
    const names = new Set<string>();
    return doc.rules.map((rule, i): RuleIR => {
      const at = ['rules', i];
      const name = rule.name ?? `rule-${i + 1}`;
      if (names.has(name))
        report.error(
          sd,
          [...at, 'name'],
          'duplicate-rule',
          `rule name '${name}' is used twice in this policy`,
        );
      names.add(name);
      const when =
        rule.when === undefined
          ? undefined
          : values.condition([...at, 'when'], rule.when, { types });
      const seen = new Set<string>();
      rule.run.forEach((flow, j) => {
        if (!defs.flows.has(flow) && !isBroken(defs, 'Flow', flow)) {
          report.error(
            sd,
            [...at, 'run', j],
            'unknown-flow',
            `no flow named '${flow}'${suggest(flow, defs.flows.keys(), 'flows')}`,
          );
        } else if (seen.has(flow)) {
          report.error(
            sd,
            [...at, 'run', j],
            'duplicate-flow',
            `flow '${flow}' is listed twice in this rule`,
          );
        }
        seen.add(flow);
      });
      return {
        name,
        on: rule.on,
        ...(when !== undefined ? { when } : {}),
        run: rule.run,
        priority: rule.priority ?? 0,
        fallback: rule.fallback ?? false,
        ...(rule.pending && Object.keys(rule.pending).length ? { pending: rule.pending } : {}),
      };
    });
  });
  if (!clean) return undefined;
  const ir: PolicyIR = {
    irVersion: IR_VERSION,
    name: doc.metadata.name,
    title: doc.metadata.title ?? doc.metadata.name,
    rules,
  };
  return { ir, hash: contentHash(ir) };
}
