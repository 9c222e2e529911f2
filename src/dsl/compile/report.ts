/**
 * Shared plumbing of the compile passes: the diagnostics list and what each pass knows about
 * the definitions being compiled.
 */
import type { Diagnostic, Path } from '../diagnostics';
import type { CorrelationIR, RoleIR } from '../ir';
import type {
  ConnectorDocument,
  CorrelationDocument,
  FlowDocument,
  PolicyDocument,
  RoleDocument,
  SodRuleDocument,
  SourceDefinitionDocument,
  TemplateDocument,
} from '../schema';
import { diagnosticAt, type LocateOptions, type SourceDocument } from '../source';

export class Reporter {
  readonly diagnostics: Diagnostic[] = [];

  error(
    sd: SourceDocument,
    path: Path,
    code: string,
    message: string,
    options?: LocateOptions,
  ): void {
    this.diagnostics.push(diagnosticAt(sd, path, code, message, options));
  }

  /** Runs `fn` and tells whether it reported anything. */
  clean<T>(fn: () => T): { value: T; clean: boolean } {
    const before = this.diagnostics.length;
    const value = fn();
    return { value, clean: this.diagnostics.length === before };
  }
}

export interface Entry<T> {
  doc: T;
  sd: SourceDocument;
  /**
   * Set when the document had structural problems and `doc` is a repaired copy: it is checked
   * for further problems but never compiled into IR, nor is anything that depends on it.
   */
  repaired?: { brokenSteps: Set<string> };
}

/** Every structurally sound document, by kind and name. */
export interface Definitions {
  flows: Map<string, Entry<FlowDocument>>;
  policies: Map<string, Entry<PolicyDocument>>;
  connectors: Map<string, Entry<ConnectorDocument>>;
  templates: Map<string, Entry<TemplateDocument>>;
  roles: Map<string, Entry<RoleDocument>>;
  sodRules: Map<string, Entry<SodRuleDocument>>;
  correlations: Map<string, Entry<CorrelationDocument>>;
  sources: Map<string, Entry<SourceDefinitionDocument>>;
  /** Every correlation that compiled cleanly, by name: what correlate steps inline. */
  compiledCorrelations?: ReadonlyMap<string, CorrelationIR>;
  /**
   * Every role, compiled: set only when all Role documents compiled cleanly, so checks against
   * what roles grant (a reconcile step's grace) never fire on a half-known role set.
   */
  compiledRoles?: ReadonlyMap<string, RoleIR>;
  /**
   * Names of documents that exist but failed their structural check, by kind. Their own errors
   * are reported; references to them are not reported again as unknown names.
   */
  broken: Map<string, Set<string>>;
}

export function isBroken(defs: Definitions, kind: string, name: string): boolean {
  return defs.broken.get(kind)?.has(name) ?? false;
}
