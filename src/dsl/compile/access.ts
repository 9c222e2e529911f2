/**
 * Access on a connector, as roles, SoD rules and reconcile steps name it: the connector must
 * exist and its type declare what roles may grant (`access`); entitlements are listed under the
 * keys the type declares (`groups`), as literal names that kind's check accepts. The schema
 * lets any key through, so the message can name what this connector's type declares.
 */
import { CONNECTOR_TYPES, connectorType } from '../../connectors/registry';
import type { AccessSpec, ConnectorTypeSpec } from '../../connectors/spec';
import { didYouMean, listNames, suggest, type Path } from '../diagnostics';
import type { ConnectorDocument } from '../schema';
import type { SourceDocument } from '../source';
import { isBroken, type Definitions, type Entry, type Reporter } from './report';

export interface AccessConnector {
  name: string;
  entry: Entry<ConnectorDocument>;
  spec: ConnectorTypeSpec;
  access: AccessSpec;
}

/** One entitlement as written, with where it is written. */
export interface WrittenEntitlement {
  kind: string;
  value: string;
  path: Path;
}

/** Connector types roles may grant on. */
const GRANTING_TYPES = Object.values(CONNECTOR_TYPES)
  .filter((spec) => spec.access)
  .map((spec) => spec.type);

/** Checks connectors and entitlements named in one document; reports into `report`. */
export class AccessChecker {
  /** Set when a named connector had structural errors: what names it yields no IR. */
  dependsOnRepaired = false;

  constructor(
    private readonly report: Reporter,
    private readonly sd: SourceDocument,
    private readonly defs: Definitions,
  ) {}

  private error(path: Path, code: string, message: string, key = false): void {
    this.report.error(this.sd, path, code, message, { key });
  }

  /**
   * The connector `name` (written at `path`) when it exists and its type declares access.
   * With `owned`, it must also record owners (`config.correlation`): reconcile finds a
   * person's account by its owner, never by its name.
   */
  connector(name: string, path: Path, owned: boolean): AccessConnector | undefined {
    const entry = this.defs.connectors.get(name);
    if (!entry) {
      if (isBroken(this.defs, 'Connector', name)) return undefined;
      const names = [...this.defs.connectors.keys()];
      this.error(
        path,
        'unknown-connector',
        `no connector named '${name}'${names.length ? suggest(name, names, 'connectors') : ' (no Connector documents are defined)'}`,
      );
      return undefined;
    }
    if (entry.repaired) this.dependsOnRepaired = true;
    const spec = connectorType(entry.doc.type);
    if (!spec) return undefined;
    if (!spec.access) {
      this.error(
        path,
        'no-access',
        `connector '${name}' is of type ${spec.type}, which has nothing roles can grant; access is managed on connectors of type ${listNames(GRANTING_TYPES)}`,
      );
      return undefined;
    }
    const config = entry.doc.config;
    if (owned && !entry.repaired && config?.correlation === undefined) {
      this.error(
        path,
        'no-correlation',
        `connector '${name}' has no config.correlation; reconcile finds a person's account by its owner, so give the connector one, like correlation: { attribute: employeeNumber }`,
      );
      return undefined;
    }
    return { name, entry, spec, access: spec.access };
  }

  /**
   * The entitlements `set` lists on `connector`: every key but `connector` and `skip` must be
   * one the connector's type declares, every value a literal name that kind accepts, once.
   */
  entitlements(
    set: Record<string, unknown>,
    path: Path,
    connector: AccessConnector,
    skip: readonly string[] = [],
  ): WrittenEntitlement[] | undefined {
    const { access, spec, name } = connector;
    const kinds = Object.entries(access.entitlements);
    const keys = kinds.map(([, kind]) => kind.key);
    const config = connector.entry.doc.config ?? {};
    const found: WrittenEntitlement[] = [];
    let ok = true;
    for (const [key, values] of Object.entries(set)) {
      if (key === 'connector' || skip.includes(key)) continue;
      const declared = kinds.find(([, kind]) => kind.key === key);
      if (!declared) {
        const declares = keys.length
          ? `its type declares ${listNames(keys)}`
          : 'its type declares no entitlements';
        this.error(
          [...path, key],
          'unknown-entitlement',
          `connector '${name}' (type ${spec.type}) has no entitlement '${key}'; ${declares}${didYouMean(key, [...skip, ...keys])}`,
          true,
        );
        ok = false;
        continue;
      }
      const [kindName, kind] = declared;
      if (!Array.isArray(values)) continue; // the schema types every declared key
      const seen = new Set<string>();
      values.forEach((value, i) => {
        const at = [...path, key, i];
        if (typeof value !== 'string') return;
        const problem = value.includes('${')
          ? `entitlements are literal names, not \${…}: what idflow manages on '${name}' must be known without evaluating anyone's roles`
          : connector.entry.repaired
            ? undefined
            : kind.check?.(value, config);
        if (problem) {
          this.error(at, 'bad-entitlement', problem);
          ok = false;
        } else if (seen.has(value)) {
          this.error(at, 'duplicate-entitlement', `${kindName} '${value}' is listed twice here`);
          ok = false;
        }
        seen.add(value);
        found.push({ kind: kindName, value, path: at });
      });
    }
    return ok ? found : undefined;
  }
}
