/**
 * What the `definitions history|activate|diff` commands do, apart from printing: each takes
 * `<kind>/<name>` as typed and a version as typed (number or hash prefix), so tests call the
 * same functions the commands call.
 */
import type { Database } from '../db/client';
import {
  activateVersion,
  definitionHistory,
  DefinitionNotFoundError,
  findVersion,
  type ActivationChange,
  type DefinitionVersion,
} from '../db/repos/definitions';
import { diffVersions, type DefinitionDiff } from './diff';
import { parseDefinitionRef, type DefinitionRef } from './ref';

/** Every version of `<kind>/<name>`, newest first; an unknown definition is an error. */
export async function historyOf(
  db: Database,
  refText: string,
): Promise<{ ref: DefinitionRef; versions: DefinitionVersion[] }> {
  const ref = parseDefinitionRef(refText);
  const versions = await definitionHistory(db, ref.kind, ref.name);
  if (!versions.length)
    throw new DefinitionNotFoundError(`${ref.kind} '${ref.name}' has no stored versions`);
  return { ref, versions };
}

/** Makes version `version` (number or hash prefix) of `<kind>/<name>` the active one. */
export async function activateDefinition(
  db: Database,
  refText: string,
  version: string,
  actor: string,
): Promise<{ ref: DefinitionRef; change: ActivationChange; unchanged: boolean }> {
  const ref = parseDefinitionRef(refText);
  return { ref, ...(await activateVersion(db, ref.kind, ref.name, version, actor)) };
}

/** The diff from version `a` to version `b` of `<kind>/<name>`. */
export async function diffDefinition(
  db: Database,
  refText: string,
  a: string,
  b: string,
): Promise<{ ref: DefinitionRef; diff: DefinitionDiff }> {
  const ref = parseDefinitionRef(refText);
  const from = await findVersion(db, ref.kind, ref.name, a);
  const to = await findVersion(db, ref.kind, ref.name, b);
  return { ref, diff: diffVersions(from, to) };
}
