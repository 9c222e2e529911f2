/**
 * Start-up check of idflow's search attributes on the Temporal namespace the worker and the
 * gateway use. A run upserts them at its first step, so a namespace without them (a real
 * server nobody prepared, Temporal Cloud) would fail every run's workflow task over and over;
 * instead the process registers the missing ones when allowed, or exits naming them with the
 * commands that add them. A same-named attribute of another type is never "fixed": it is named.
 */
import { temporal } from '@temporalio/proto';
import type { Config } from '../config';
import type { Logger } from '../logging';
import { SEARCH_ATTRIBUTES } from './search-attributes';

const Indexed = temporal.api.enums.v1.IndexedValueType;
type IndexedValueType = temporal.api.enums.v1.IndexedValueType;

/** The Temporal CLI's names of the server's attribute types. */
const TYPE_NAMES: ReadonlyMap<IndexedValueType, string> = new Map([
  [Indexed.INDEXED_VALUE_TYPE_TEXT, 'Text'],
  [Indexed.INDEXED_VALUE_TYPE_KEYWORD, 'Keyword'],
  [Indexed.INDEXED_VALUE_TYPE_INT, 'Int'],
  [Indexed.INDEXED_VALUE_TYPE_DOUBLE, 'Double'],
  [Indexed.INDEXED_VALUE_TYPE_BOOL, 'Bool'],
  [Indexed.INDEXED_VALUE_TYPE_DATETIME, 'Datetime'],
  [Indexed.INDEXED_VALUE_TYPE_KEYWORD_LIST, 'KeywordList'],
]);

/** The CLI name of a server type (`Unspecified(n)` for one this SDK does not know). */
export function typeName(type: IndexedValueType): string {
  return TYPE_NAMES.get(type) ?? `Unspecified(${type})`;
}

function indexedType(name: string): IndexedValueType {
  for (const [type, typeNameOf] of TYPE_NAMES) if (typeNameOf === name) return type;
  throw new Error(`unknown search attribute type ${name}`);
}

export type WantedAttributes = ReadonlyArray<readonly [string, string]>;

/** What a namespace lacks: attributes it does not have, and same-named ones of another type. */
export interface SearchAttributePlan {
  missing: Array<readonly [string, string]>;
  conflicting: Array<{ name: string; wanted: string; found: string }>;
}

/**
 * Compares the namespace's attributes (name → CLI type name) with the wanted ones, in the
 * wanted order. Names are compared exactly: Temporal's names are case-sensitive.
 */
export function planSearchAttributes(
  server: ReadonlyMap<string, string>,
  wanted: WantedAttributes = SEARCH_ATTRIBUTES,
): SearchAttributePlan {
  const plan: SearchAttributePlan = { missing: [], conflicting: [] };
  for (const [name, type] of wanted) {
    const found = server.get(name);
    if (found === undefined) plan.missing.push([name, type]);
    else if (found !== type) plan.conflicting.push({ name, wanted: type, found });
  }
  return plan;
}

/** Where the attributes are checked, for messages and commands. */
export interface Namespace {
  address: string;
  namespace: string;
}

/** The Temporal CLI command that adds `missing` (each `--name` followed by its `--type`). */
export function createCommand(
  missing: ReadonlyArray<readonly [string, string]>,
  where: Namespace,
): string {
  const pairs = missing.map(([name, type]) => `--name ${name} --type ${type}`);
  return `temporal operator search-attribute create --address ${where.address} --namespace ${where.namespace} ${pairs.join(' ')}`;
}

/** The namespace cannot serve idflow as it is; the message names each attribute and the fix. */
export class SearchAttributesError extends Error {
  override readonly name = 'SearchAttributesError';
  constructor(
    readonly plan: SearchAttributePlan,
    where: Namespace,
    reason: string,
  ) {
    super(describeProblem(plan, where, reason));
  }
}

/** The text of a SearchAttributesError. */
export function describeProblem(
  plan: SearchAttributePlan,
  where: Namespace,
  reason: string,
): string {
  const lines = [
    `the Temporal namespace "${where.namespace}" at ${where.address} does not have idflow's search attributes as idflow needs them (${reason}):`,
    ...plan.conflicting.map((c) => `  ${c.name} is ${c.found} there; idflow needs ${c.wanted}`),
    ...plan.missing.map(([name, type]) => `  ${name} (${type}) is missing`),
  ];
  if (plan.missing.length)
    lines.push('add the missing ones with:', `  ${createCommand(plan.missing, where)}`);
  if (plan.conflicting.length)
    lines.push(
      `an attribute's type cannot be changed: give idflow a namespace of its own (TEMPORAL_NAMESPACE), or remove the attribute if nothing else uses it (temporal operator search-attribute remove --address ${where.address} --namespace ${where.namespace} --name NAME)`,
    );
  return lines.join('\n');
}

/** Whether idflow registers missing attributes (IDFLOW_REGISTER_SEARCH_ATTRIBUTES). */
export type RegisterMode = 'auto' | 'true' | 'false';

/** The part of a Temporal connection (client or worker) the check uses. */
export interface OperatorConnection {
  operatorService: {
    listSearchAttributes(request: { namespace: string }): Promise<{
      customAttributes?: Record<string, IndexedValueType> | null;
      systemAttributes?: Record<string, IndexedValueType> | null;
    }>;
    addSearchAttributes(request: {
      namespace: string;
      searchAttributes: Record<string, IndexedValueType>;
    }): Promise<unknown>;
  };
  withDeadline<T>(deadline: number | Date, fn: () => Promise<T>): Promise<T>;
}

export interface EnsureOptions extends Namespace {
  mode: RegisterMode;
  logger: Pick<Logger, 'info'>;
  /** How long registered attributes may take to appear (SQL visibility adds them later). */
  waitMs?: number;
  /** Each call's deadline. */
  callTimeoutMs?: number;
  pollMs?: number;
  wanted?: WantedAttributes;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** What a worker's or gateway's check takes from its Temporal settings. */
export function ensureOptionsOf(
  settings: Pick<Config['temporal'], 'address' | 'namespace' | 'registerSearchAttributes'>,
  logger: Pick<Logger, 'info'>,
): EnsureOptions {
  return {
    address: settings.address,
    namespace: settings.namespace,
    mode: settings.registerSearchAttributes,
    logger,
  };
}

// gRPC status codes
const ALREADY_EXISTS = 6;
const PERMISSION_DENIED = 7;
const UNIMPLEMENTED = 12;

function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Makes sure the namespace has every wanted attribute with its type: registers the missing ones
 * (mode `auto` or `true`) and waits until the server lists them, or throws a
 * SearchAttributesError naming them. Another process registering them at the same moment is
 * fine. Returns the names this call registered. Errors reaching the server are thrown as they
 * are.
 */
export async function ensureSearchAttributes(
  connection: OperatorConnection,
  options: EnsureOptions,
): Promise<string[]> {
  const wanted = options.wanted ?? SEARCH_ATTRIBUTES;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const callTimeoutMs = options.callTimeoutMs ?? 10_000;
  const waitMs = options.waitMs ?? 30_000;
  const where = { address: options.address, namespace: options.namespace };
  const call = <T>(fn: () => Promise<T>) => connection.withDeadline(now() + callTimeoutMs, fn);
  const current = async () => {
    const listed = await call(() =>
      connection.operatorService.listSearchAttributes({ namespace: options.namespace }),
    );
    const server = new Map<string, string>();
    for (const attributes of [listed.systemAttributes, listed.customAttributes])
      for (const [name, type] of Object.entries(attributes ?? {})) server.set(name, typeName(type));
    return planSearchAttributes(server, wanted);
  };
  /** Registers `missing`; true when another process had registered some of them first. */
  const register = async (missing: SearchAttributePlan['missing']): Promise<boolean> => {
    const searchAttributes = Object.fromEntries(
      missing.map(([name, type]) => [name, indexedType(type)]),
    );
    try {
      await call(() =>
        connection.operatorService.addSearchAttributes({
          namespace: options.namespace,
          searchAttributes,
        }),
      );
      return false;
    } catch (err) {
      const code = grpcCode(err);
      if (code === ALREADY_EXISTS) return true;
      const refused = code === PERMISSION_DENIED || code === UNIMPLEMENTED;
      throw new SearchAttributesError(
        { missing, conflicting: [] },
        where,
        refused
          ? `the server does not let idflow register them (${code === PERMISSION_DENIED ? 'PermissionDenied' : 'Unimplemented'}: ${errorText(err)}); on Temporal Cloud add them in the Cloud UI or with tcld`
          : `registering them failed: ${errorText(err)}`,
      );
    }
  };

  let plan = await current();
  if (plan.conflicting.length)
    throw new SearchAttributesError(plan, where, 'some have another type');
  if (!plan.missing.length) return [];
  if (options.mode === 'false')
    throw new SearchAttributesError(
      plan,
      where,
      'IDFLOW_REGISTER_SEARCH_ATTRIBUTES=false: idflow does not register them',
    );
  const registering = plan.missing.map(([name]) => name);
  let raced = await register(plan.missing);
  const deadline = now() + waitMs;
  for (;;) {
    plan = await current();
    if (plan.conflicting.length)
      throw new SearchAttributesError(plan, where, 'some have another type');
    if (!plan.missing.length) break;
    if (now() >= deadline)
      throw new SearchAttributesError(
        plan,
        where,
        `they were registered but the server did not list them within ${waitMs / 1000} s`,
      );
    // another process registered some first: the server may have refused the whole request
    if (raced) raced = await register(plan.missing);
    await sleep(options.pollMs ?? 500);
  }
  options.logger.info(
    { namespace: options.namespace, registered: registering },
    'search attributes registered',
  );
  return registering;
}
