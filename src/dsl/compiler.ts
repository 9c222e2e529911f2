/**
 * The compiler: YAML sources in, IR and diagnostics out. One pass reports every problem it can
 * find: syntax, structure, names, references, types. A definition with any problem yields no IR.
 */
import { CelTypes } from './cel-check';
import { compareDiagnostics, type Diagnostic } from './diagnostics';
import type { Compiled, ConnectorIR, FlowIR, JsonValue, PolicyIR } from './ir';
import { ATTRIBUTES, eventShape, PERSON_SHAPE } from './shapes';
import { parseSource, type SourceDocument } from './source';
import { checkStructure, type ParsedDocument } from './structure';
import { compileFlow } from './compile/flow';
import { compilePolicy } from './compile/policy';
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
  report.error(entry.sd, ['metadata', 'name'], 'duplicate-name', `a ${kind} named '${name}' is already defined`);
  const firstAt = first.sd.doc.contents?.range?.[0] ?? 0;
  const pos = first.sd.file.lines.linePos(firstAt);
  const added = report.diagnostics[where] as Diagnostic;
  added.message += ` at ${first.sd.file.path}:${pos.line}:${pos.col}`;
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
  const defs: Definitions = { flows: new Map(), policies: new Map(), connectors: new Map(), templates: new Map() };
  for (const sd of documents) {
    const { parsed, diagnostics } = checkStructure(sd);
    report.diagnostics.push(...diagnostics);
    if (parsed) addDocument(defs, parsed, sd, report);
  }

  for (const entry of defs.templates.values()) checkTemplate(entry, report);
  const connectors = new Map<string, ConnectorIR>();
  for (const [name, { doc }] of defs.connectors) {
    connectors.set(name, { name, type: doc.type, config: (doc.config ?? {}) as Record<string, JsonValue> });
  }
  const flows = new Map<string, Compiled<FlowIR>>();
  for (const [name, entry] of defs.flows) {
    const compiled = compileFlow(entry, defs, report);
    if (compiled) flows.set(name, compiled);
  }
  const policies = new Map<string, Compiled<PolicyIR>>();
  const policyTypes = CelTypes.create({ event: eventShape(ATTRIBUTES), subject: PERSON_SHAPE, now: 'timestamp' });
  for (const [name, entry] of defs.policies) {
    const compiled = compilePolicy(entry, defs, report, policyTypes);
    if (compiled) policies.set(name, compiled);
  }
  return { flows, policies, connectors, diagnostics: report.diagnostics.sort(compareDiagnostics) };
}

function addDocument(defs: Definitions, parsed: ParsedDocument, sd: SourceDocument, report: Reporter): void {
  const name = parsed.value.metadata.name;
  switch (parsed.kind) {
    case 'Flow':
      return register(defs.flows, 'Flow', name, { doc: parsed.value, sd }, report);
    case 'Policy':
      return register(defs.policies, 'Policy', name, { doc: parsed.value, sd }, report);
    case 'Connector':
      return register(defs.connectors, 'Connector', name, { doc: parsed.value, sd }, report);
    case 'Template':
      return register(defs.templates, 'Template', name, { doc: parsed.value, sd }, report);
    default: {
      const never: never = parsed;
      throw new Error(`unhandled document kind ${JSON.stringify(never)}`);
    }
  }
}
