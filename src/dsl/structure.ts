/**
 * The structural check of one document: apiVersion and kind, secrets written inline, and the
 * kind's strict zod schema. zod's issues become diagnostics worded for people, placed on the
 * offending key or value, with "did you mean" for near-miss names.
 */
import type * as z from 'zod';
import { CONNECTOR_TYPES } from '../connectors/registry';
import { closest, didYouMean, listNames, show, type Diagnostic, type Path } from './diagnostics';
import { MAX_STEP_NESTING } from './limits';
import { durationRangeProblem, timestampProblem } from './literals';
import {
  API_VERSION,
  DOCUMENT_KINDS,
  Duration,
  DOCUMENT_SCHEMAS,
  STEP_KINDS,
  type ConnectorDocument,
  type CorrelationDocument,
  type DocumentKind,
  type FlowDocument,
  type PolicyDocument,
  type RoleDocument,
  type SodRuleDocument,
  type SourceDefinitionDocument,
  type TemplateDocument,
} from './schema';
import { isStepPath, repairDocument } from './repair';
import { findInlineSecrets } from './secrets';
import { diagnosticAt, type SourceDocument } from './source';
import { parseTemplate } from './template';
import { EXPECTED, errorMap } from './zod-messages';

export type ParsedDocument =
  | { kind: 'Flow'; value: FlowDocument }
  | { kind: 'Policy'; value: PolicyDocument }
  | { kind: 'Connector'; value: ConnectorDocument }
  | { kind: 'Template'; value: TemplateDocument }
  | { kind: 'Role'; value: RoleDocument }
  | { kind: 'SodRule'; value: SodRuleDocument }
  | { kind: 'Correlation'; value: CorrelationDocument }
  | { kind: 'Source'; value: SourceDefinitionDocument };

type Issue = z.core.$ZodIssue;
type AnySchema = z.core.$ZodType;

const STEP_FIELDS = ['id', 'title', 'description'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function valueAt(data: unknown, path: Path): unknown {
  let current = data;
  for (const seg of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[seg];
  }
  return current;
}

function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  for (;;) {
    const def = current._zod.def as unknown as Record<string, unknown> & { type: string };
    if (
      ['optional', 'nullable', 'default', 'readonly', 'catch', 'prefault', 'nonoptional'].includes(
        def.type,
      )
    ) {
      current = def.innerType as AnySchema;
    } else if (def.type === 'lazy') {
      current = (def.getter as () => AnySchema)();
    } else if (def.type === 'pipe') {
      current = def.in as AnySchema;
    } else {
      return current;
    }
  }
}

function objectShape(schema: AnySchema): Record<string, AnySchema> | undefined {
  const def = unwrap(schema)._zod.def as unknown as {
    type: string;
    shape?: Record<string, AnySchema>;
  };
  return def.type === 'object' ? def.shape : undefined;
}

/** The option of a union that `value` was meant for: by discriminator, else by shared keys. */
function pickOption(schema: AnySchema, value: unknown): AnySchema {
  const def = unwrap(schema)._zod.def as unknown as {
    type: string;
    options?: AnySchema[];
    discriminator?: string;
  };
  if (def.type !== 'union' || !def.options) return unwrap(schema);
  let best = def.options[0] as AnySchema;
  let bestScore = -1;
  for (const option of def.options) {
    const shape = objectShape(option);
    let score = 0;
    if (shape && isRecord(value)) {
      if (def.discriminator) {
        const literal = unwrap(shape[def.discriminator] as AnySchema)._zod.def as unknown as {
          values?: unknown[];
        };
        score = literal.values?.includes(value[def.discriminator]) ? 1 : 0;
      } else {
        score = Object.keys(value).filter((k) => k in shape).length;
      }
    }
    if (score > bestScore) {
      best = option;
      bestScore = score;
    }
  }
  return unwrap(best);
}

/** The schema that describes the value at `path`, following the data through unions. */
function schemaAt(root: AnySchema, path: Path, data: unknown): AnySchema | undefined {
  let schema: AnySchema | undefined = pickOption(root, data);
  let value = data;
  for (const seg of path) {
    if (!schema) return undefined;
    const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
    if (def.type === 'object') schema = (def.shape as Record<string, AnySchema>)[String(seg)];
    else if (def.type === 'array') schema = def.element as AnySchema;
    else if (def.type === 'record') schema = def.valueType as AnySchema;
    else return undefined;
    value = valueAt(value, [seg]);
    if (schema) schema = pickOption(schema, value);
  }
  return schema;
}

class StructureReport {
  readonly diagnostics: Diagnostic[] = [];
  /** Where each problem is, for the repair. */
  readonly paths: Path[] = [];
  constructor(
    private readonly sd: SourceDocument,
    private readonly root: AnySchema,
    private readonly skip: readonly Path[],
  ) {}

  private add(path: Path, code: string, message: string, key = false): void {
    this.paths.push(path);
    const covered = this.skip.some(
      (p) => p.length <= path.length && p.every((seg, i) => seg === path[i]),
    );
    if (!covered) this.diagnostics.push(diagnosticAt(this.sd, path, code, message, { key }));
  }

  /** What the object at `path` is, for "unknown field … in <place>". */
  private place(path: Path): string {
    if (path.length === 0) return 'this document';
    if (isStepPath(path)) {
      const id = valueAt(this.sd.data, [...path, 'id']);
      return typeof id === 'string' ? `step '${id}'` : 'this step';
    }
    return this.subject(path);
  }

  private subject(path: Path): string {
    const last = path[path.length - 1];
    if (typeof last === 'number') {
      return isStepPath(path)
        ? 'this step'
        : `item ${last + 1} of '${String(path[path.length - 2])}'`;
    }
    return last === undefined ? 'the document' : `'${last}'`;
  }

  /**
   * Literals whose type the language knows but the schema's form cannot fully check: durations
   * beyond the longest wait, and a `wait.until` written as text that is no timestamp. Walks the
   * data along the schema (the nesting is bounded: the parser refuses deeper documents).
   */
  literals(schema: AnySchema, value: unknown, path: Path): void {
    const s = pickOption(schema, value);
    if (s === (Duration as AnySchema) && typeof value === 'string') {
      const problem = durationRangeProblem(value);
      if (problem) this.add(path, 'bad-duration', `${this.subject(path)} ${problem}`);
      return;
    }
    if (isWaitUntil(path) && typeof value === 'string') {
      const literal = literalText(value);
      const problem = literal === undefined ? undefined : timestampProblem(literal);
      if (problem) this.add(path, 'bad-timestamp', `${this.subject(path)} ${problem}`);
      return;
    }
    const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
    if (def.type === 'object' && isRecord(value)) {
      for (const [key, sub] of Object.entries(def.shape as Record<string, AnySchema>))
        if (key in value) this.literals(sub, value[key], [...path, key]);
    } else if (def.type === 'array' && Array.isArray(value)) {
      value.forEach((item, i) => this.literals(def.element as AnySchema, item, [...path, i]));
    } else if (def.type === 'record' && isRecord(value)) {
      for (const [key, item] of Object.entries(value))
        this.literals(def.valueType as AnySchema, item, [...path, key]);
    }
  }

  /** Why a Connector document of a type without accounts cannot say what happens to them. */
  private accountsHint(path: Path, key: PathKey): string {
    const doc = this.sd.data as { kind?: unknown; type?: unknown } | null;
    if (path.length > 0 || key !== 'accounts' || doc?.kind !== 'Connector') return '';
    const types = Object.values(CONNECTOR_TYPES).filter((t) => t.access?.accounts);
    return `: connector type '${show(doc.type)}' keeps no accounts; only connectors of type ${listNames(types.map((t) => t.type))} take accounts.onTermination`;
  }

  issues(issues: readonly Issue[], base: Path): void {
    for (const issue of issues) this.issue(issue, [...base, ...(issue.path as PathKey[])]);
  }

  private issue(issue: Issue, path: Path): void {
    switch (issue.code) {
      case 'invalid_union':
        return this.union(issue, path);
      case 'unrecognized_keys': {
        const shape = objectShape(schemaAt(this.root, path, this.sd.data) ?? this.root);
        const allowed = shape ? Object.keys(shape) : [];
        for (const key of issue.keys) {
          this.add(
            [...path, key],
            'unknown-field',
            `unknown field '${key}' in ${this.place(path)}${didYouMean(key, allowed)}${this.accountsHint(path, key)}`,
            true,
          );
        }
        return;
      }
      case 'invalid_key': {
        // a mapping whose keys follow a pattern (vars, event types): say what the key must be
        const why = issue.issues[0]?.message ?? 'is not allowed here';
        this.add(path, 'invalid-key', `key '${String(path[path.length - 1])}' ${why}`, true);
        return;
      }
      case 'invalid_type':
        if (valueAt(this.sd.data, path) === undefined) {
          this.add(
            path,
            'missing-field',
            `missing required field '${String(path[path.length - 1])}' in ${this.place(path.slice(0, -1))}`,
          );
          return;
        }
        this.add(path, 'invalid-value', `${this.subject(path)} ${issue.message}`);
        return;
      default:
        this.add(path, 'invalid-value', `${this.subject(path)} ${issue.message}`);
    }
  }

  private union(issue: z.core.$ZodIssueInvalidUnion, path: Path): void {
    if ('note' in issue && issue.note === 'No matching discriminator' && issue.discriminator) {
      const objectPath = path.slice(0, -1);
      return this.discriminator(issue.discriminator, objectPath, valueAt(this.sd.data, objectPath));
    }
    const value = valueAt(this.sd.data, path);
    if (isStepPath(path)) return this.step(issue, path, value);
    const branches = issue.errors;
    const typeOnly = branches.every(
      (b) => b.length === 1 && b[0]?.code === 'invalid_type' && b[0].path.length === 0,
    );
    if (typeOnly) {
      const expected = branches.map((b) => (b[0] as z.core.$ZodIssueInvalidType).expected);
      const names = expected.map((e) => EXPECTED[e] ?? e);
      this.add(
        path,
        'invalid-value',
        `${this.subject(path)} must be ${[...new Set(names)].join(' or ')}`,
      );
      return;
    }
    const fewest = [...branches].sort((a, b) => a.length - b.length)[0] ?? [];
    this.issues(fewest, path);
  }

  private discriminator(key: string, path: Path, value: unknown): void {
    const def = unwrap(this.root)._zod.def as unknown as { options: AnySchema[] };
    const known = def.options.flatMap((o) => {
      const literal = unwrap(objectShape(o)?.[key] as AnySchema)._zod.def as unknown as {
        values: string[];
      };
      return literal.values;
    });
    const given = isRecord(value) ? value[key] : undefined;
    if (given === undefined) {
      this.add(
        [...path, key],
        'missing-field',
        `missing required field '${key}': one of ${listNames(known)}`,
      );
    } else {
      this.add(
        [...path, key],
        'unknown-type',
        `unknown ${key} '${show(given)}'; known: ${listNames(known)}${didYouMean(show(given), known)}`,
      );
    }
  }

  private step(issue: z.core.$ZodIssueInvalidUnion, path: Path, value: unknown): void {
    if (!isRecord(value)) {
      this.add(
        path,
        'invalid-step',
        `a step must be a mapping with an id and one of ${listNames(STEP_KINDS)}`,
      );
      return;
    }
    const kinds = STEP_KINDS.filter((k) => k in value);
    if (kinds.length === 1) {
      const branch =
        issue.errors[STEP_KINDS.indexOf(kinds[0] as (typeof STEP_KINDS)[number])] ?? [];
      this.issues(branch, path);
      return;
    }
    if (kinds.length > 1) {
      this.add(
        [...path, kinds[1] as string],
        'several-kinds',
        `${this.place(path)} has both '${kinds[0]}' and '${kinds[1]}'; a step does one thing, so split it into two steps`,
        true,
      );
      return;
    }
    const unknown = Object.keys(value).filter((k) => !STEP_FIELDS.includes(k));
    const typo = unknown.find((k) => closest(k, STEP_KINDS) !== undefined);
    const hint = typo === undefined ? '' : didYouMean(typo, STEP_KINDS);
    this.add(
      typo === undefined ? path : [...path, typo],
      'missing-step-kind',
      `${this.place(path)} needs one of ${listNames(STEP_KINDS)}${typo === undefined ? '' : ` ('${typo}' is not a step kind${hint})`}`,
      typo !== undefined,
    );
  }
}

type PathKey = string | number;

function isWaitUntil(path: Path): boolean {
  return (
    path[path.length - 1] === 'until' &&
    path[path.length - 2] === 'wait' &&
    isStepPath(path.slice(0, -2))
  );
}

/** The text of a value without `${…}` (`$${` unescaped), or undefined when it interpolates. */
function literalText(value: string): string | undefined {
  const parsed = parseTemplate(value);
  if (!parsed.ok) return undefined;
  let text = '';
  for (const segment of parsed.segments) {
    if (!('text' in segment)) return undefined;
    text += segment.text;
  }
  return text;
}

/**
 * The first step (in document order) nested deeper than the limit, found without recursion so
 * it runs before anything recursive walks the document.
 */
function tooDeepStep(data: unknown): { path: Path; depth: number } | undefined {
  const stack: Array<{ value: unknown; path: Path; depth: number }> = [
    { value: data, path: [], depth: 0 },
  ];
  while (stack.length) {
    const { value, path, depth } = stack.pop() as { value: unknown; path: Path; depth: number };
    const here = isStepPath(path) ? depth + 1 : depth;
    if (here > MAX_STEP_NESTING) return { path, depth: here };
    if (value === null || typeof value !== 'object') continue;
    const entries: Array<[PathKey, unknown]> = Array.isArray(value)
      ? value.map((item, i) => [i, item])
      : Object.entries(value);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i] as [PathKey, unknown];
      stack.push({ value: item, path: [...path, key], depth: here });
    }
  }
  return undefined;
}

/** Checks one document's structure; returns the typed document when it is sound. */
export function checkStructure(sd: SourceDocument): {
  parsed?: ParsedDocument;
  /** True when `parsed` is a repaired copy: check it for more problems, never compile it. */
  repaired?: { brokenSteps: Set<string> };
  diagnostics: Diagnostic[];
} {
  const data = sd.data;
  const diagnostics: Diagnostic[] = [];
  if (!isRecord(data)) {
    diagnostics.push(
      diagnosticAt(
        sd,
        [],
        'not-a-mapping',
        `a definition must be a mapping with apiVersion, kind and metadata`,
      ),
    );
    return { diagnostics };
  }
  if (data.apiVersion === undefined) {
    diagnostics.push(
      diagnosticAt(
        sd,
        [],
        'missing-field',
        `missing required field 'apiVersion': add apiVersion: ${API_VERSION}`,
      ),
    );
  } else if (data.apiVersion !== API_VERSION) {
    diagnostics.push(
      diagnosticAt(
        sd,
        ['apiVersion'],
        'unsupported-version',
        `unsupported apiVersion '${show(data.apiVersion)}'; this idflow reads ${API_VERSION}`,
      ),
    );
  }
  const kind = data.kind;
  if (kind === undefined) {
    diagnostics.push(
      diagnosticAt(
        sd,
        [],
        'missing-field',
        `missing required field 'kind': one of ${listNames(DOCUMENT_KINDS)}`,
      ),
    );
    return { diagnostics };
  }
  if (typeof kind !== 'string' || !(DOCUMENT_KINDS as readonly string[]).includes(kind)) {
    diagnostics.push(
      diagnosticAt(
        sd,
        ['kind'],
        'unknown-kind',
        `unknown kind '${show(kind)}'; expected ${listNames(DOCUMENT_KINDS)}${didYouMean(show(kind), DOCUMENT_KINDS)}`,
      ),
    );
    return { diagnostics };
  }
  const deep = tooDeepStep(data);
  if (deep) {
    diagnostics.push(
      diagnosticAt(
        sd,
        deep.path,
        'too-deep',
        `this step is nested ${deep.depth} levels deep; steps may nest at most ${MAX_STEP_NESTING} levels inside branching steps (if, switch), so flatten the branches`,
      ),
    );
    return { diagnostics };
  }
  const secrets = kind === 'Template' ? [] : findInlineSecrets(data);
  for (const secret of secrets)
    diagnostics.push(diagnosticAt(sd, secret.path, 'inline-secret', secret.message));
  const schema = DOCUMENT_SCHEMAS[kind as DocumentKind] as AnySchema;
  const result = (schema as z.ZodType).safeParse(data, { error: errorMap });
  const report = new StructureReport(sd, schema, [['apiVersion'], ...secrets.map((s) => s.path)]);
  report.literals(schema, data, []);
  if (!result.success) report.issues(result.error.issues, []);
  diagnostics.push(...report.diagnostics);
  const problems: Path[] = [...secrets.map((s) => s.path), ...report.paths];
  if (diagnostics.length === 0 && result.success) {
    return { parsed: { kind, value: result.data } as ParsedDocument, diagnostics };
  }
  const repaired = repairDocument(data, problems);
  const retry = repaired && (schema as z.ZodType).safeParse(repaired.data);
  if (!repaired || !retry?.success) return { diagnostics };
  return {
    parsed: { kind, value: retry.data } as ParsedDocument,
    repaired: { brokenSteps: repaired.brokenSteps },
    diagnostics,
  };
}
