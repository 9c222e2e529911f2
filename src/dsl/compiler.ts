/**
 * The compiler: YAML sources in, IR and diagnostics out. One pass reports every problem it can
 * find: syntax, structure, names, references, types. A definition with any problem yields no IR.
 */
import { CelTypes } from './cel-check';
import { compareDiagnostics, escapeControl, type Diagnostic } from './diagnostics';
import type {
  Compiled,
  ConnectorIR,
  CorrelationIR,
  FlowIR,
  JsonValue,
  PolicyIR,
  RoleIR,
  SodRuleIR,
  SourceIR,
} from './ir';
import { ATTRIBUTES, eventShape, PERSON_SHAPE } from './shapes';
import { connectorAccounts } from './schema';
import { parseSource, type SourceDocument } from './source';
import { checkStructure, type ParsedDocument } from './structure';
import { compileCorrelation } from './compile/correlation';
import { compileSource } from './compile/source';
import { compileFlow } from './compile/flow';
import { compilePolicy } from './compile/policy';
import { compileRole } from './compile/role';
import { compileSodRule } from './compile/sod';
import { checkTemplate } from './compile/templates';
import { Reporter, type Definitions, type Entry } from './compile/report';

export interface Source {
  path: string;
  text: string;
}

/** Everything compiled from a set of definition files. */
export interface DefinitionSet {
  flows: Map<string, Compiled<FlowIR>>;
  policies: Map<string, Compiled<PolicyIR>>;
  connectors: Map<string, ConnectorIR>;
  /** Business roles: who holds them and what they grant. */
  roles: Map<string, Compiled<RoleIR>>;
  /** Separation-of-duties rules over roles and entitlements. */
  sodRules: Map<string, Compiled<SodRuleIR>>;
  /** How records are matched to persons (correlate steps inline them). */
  correlations: Map<string, Compiled<CorrelationIR>>;
  /** Systems that send events: authentication, rate limit, SCIM mapping. */
  sources: Map<string, Compiled<SourceIR>>;
}

export interface CompileResult extends DefinitionSet {
  diagnostics: Diagnostic[];
}

function register<T>(
  map: Map<string, Entry<T>>,
  kind: string,
  name: string,
  entry: Entry<T>,
  report: Reporter,
): void {
  const first = map.get(name);
  if (!first) {
    map.set(name, entry);
    return;
  }
  const where = report.diagnostics.length;
  report.error(
    entry.sd,
    ['metadata', 'name'],
    'duplicate-name',
    `a ${kind} named '${name}' is already defined`,
  );
  const firstAt = first.sd.doc.contents?.range?.[0] ?? 0;
  const pos = first.sd.file.lines.linePos(firstAt);
  const added = report.diagnostics[where] as Diagnostic;
  added.message += ` at ${escapeControl(first.sd.file.path)}:${pos.line}:${pos.col}`;
}

/** Compiles every document of `sources` together (flows see all connectors, and so on). */
export function compileSources(sources: readonly Source[]): CompileResult {
  const report = new Reporter();
  const documents: SourceDocument[] = [];
  for (const source of sources) {
    const parsed = parseSource(source.path, source.text);
    documents.push(...parsed.documents);
    report.diagnostics.push(...parsed.diagnostics);
  }
  const defs: Definitions = {
    flows: new Map(),
    policies: new Map(),
    connectors: new Map(),
    templates: new Map(),
    roles: new Map(),
    sodRules: new Map(),
    correlations: new Map(),
    sources: new Map(),
    broken: new Map(),
  };
  for (const sd of documents) {
    const { parsed, repaired, diagnostics } = checkStructure(sd);
    report.diagnostics.push(...diagnostics);
    if (parsed) addDocument(defs, parsed, { sd, ...(repaired ? { repaired } : {}) }, report);
    else noteBroken(defs, sd.data);
  }

  for (const entry of defs.templates.values()) checkTemplate(entry, report);
  const connectors = new Map<string, ConnectorIR>();
  for (const [name, { doc, repaired }] of defs.connectors) {
    if (repaired) continue;
    const onTermination = connectorAccounts(doc)?.onTermination;
    connectors.set(name, {
      name,
      type: doc.type,
      config: (doc.config ?? {}) as Record<string, JsonValue>,
      ...(onTermination ? { accounts: { onTermination } } : {}),
    });
  }
  // Roles before flows: a reconcile step's grace may keep only what some role grants.
  const roles = new Map<string, Compiled<RoleIR>>();
  const roleTypes = CelTypes.create({ subject: PERSON_SHAPE, now: 'timestamp' });
  for (const [name, entry] of defs.roles) {
    const compiled = compileRole(entry, defs, report, roleTypes);
    if (compiled && !entry.repaired) roles.set(name, compiled);
  }
  if (roles.size === defs.roles.size && !defs.broken.get('Role')?.size) {
    defs.compiledRoles = new Map([...roles].map(([name, c]) => [name, c.ir]));
  }
  // Correlations before flows: correlate steps inline them.
  const correlations = new Map<string, Compiled<CorrelationIR>>();
  for (const [name, entry] of defs.correlations) {
    const compiled = compileCorrelation(entry, report);
    if (compiled && !entry.repaired) correlations.set(name, compiled);
  }
  defs.compiledCorrelations = new Map([...correlations].map(([name, c]) => [name, c.ir]));
  const flows = new Map<string, Compiled<FlowIR>>();
  for (const [name, entry] of defs.flows) {
    const compiled = compileFlow(entry, defs, report);
    if (compiled && !entry.repaired) flows.set(name, compiled);
  }
  // Policies choose flows before any is chosen, and SoD rules hold back grants in any flow:
  // both see the event with free-form attributes.
  const policies = new Map<string, Compiled<PolicyIR>>();
  const policyTypes = CelTypes.create({
    event: eventShape(ATTRIBUTES),
    subject: PERSON_SHAPE,
    now: 'timestamp',
  });
  for (const [name, entry] of defs.policies) {
    const compiled = compilePolicy(entry, defs, report, policyTypes);
    if (compiled && !entry.repaired) policies.set(name, compiled);
  }
  const sodRules = new Map<string, Compiled<SodRuleIR>>();
  for (const [name, entry] of defs.sodRules) {
    const compiled = compileSodRule(entry, defs, report, policyTypes);
    if (compiled && !entry.repaired) sodRules.set(name, compiled);
  }
  const eventSources = new Map<string, Compiled<SourceIR>>();
  for (const [name, entry] of defs.sources) {
    const compiled = compileSource(entry, report);
    if (compiled && !entry.repaired) eventSources.set(name, compiled);
  }
  return {
    flows,
    policies,
    connectors,
    roles,
    sodRules,
    correlations,
    sources: eventSources,
    diagnostics: report.diagnostics.sort(compareDiagnostics),
  };
}

function noteBroken(defs: Definitions, data: unknown): void {
  const doc = data as { kind?: unknown; metadata?: { name?: unknown } } | null;
  if (typeof doc?.kind !== 'string' || typeof doc.metadata?.name !== 'string') return;
  const names = defs.broken.get(doc.kind) ?? new Set<string>();
  names.add(doc.metadata.name);
  defs.broken.set(doc.kind, names);
}

function addDocument(
  defs: Definitions,
  parsed: ParsedDocument,
  where: Omit<Entry<unknown>, 'doc'>,
  report: Reporter,
): void {
  const name = parsed.value.metadata.name;
  switch (parsed.kind) {
    case 'Flow':
      return register(defs.flows, 'Flow', name, { ...where, doc: parsed.value }, report);
    case 'Policy':
      return register(defs.policies, 'Policy', name, { ...where, doc: parsed.value }, report);
    case 'Connector':
      return register(defs.connectors, 'Connector', name, { ...where, doc: parsed.value }, report);
    case 'Template':
      return register(defs.templates, 'Template', name, { ...where, doc: parsed.value }, report);
    case 'Role':
      return register(defs.roles, 'Role', name, { ...where, doc: parsed.value }, report);
    case 'SodRule':
      return register(defs.sodRules, 'SodRule', name, { ...where, doc: parsed.value }, report);
    case 'Correlation':
      return register(
        defs.correlations,
        'Correlation',
        name,
        { ...where, doc: parsed.value },
        report,
      );
    case 'Source':
      return register(defs.sources, 'Source', name, { ...where, doc: parsed.value }, report);
    default: {
      const never: never = parsed;
      throw new Error(`unhandled document kind ${JSON.stringify(never)}`);
    }
  }
}
