/**
 * `<kind>/<name>` as the `definitions` commands take it: the kind in any case (`flow`,
 * `Flow`, `sodrule`), the name as definitions spell it. Errors name what was given and what
 * would have been accepted.
 */
import { DEFINITION_KINDS, type DefinitionKind } from '../db/repos/definitions';
import { NAME_PATTERN } from '../dsl/schema';

export interface DefinitionRef {
  kind: DefinitionKind;
  name: string;
}

/** A `<kind>/<name>` that is not one. */
export class DefinitionRefError extends Error {
  override readonly name = 'DefinitionRefError';
}

const shown = (value: string) =>
  JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);

export function parseDefinitionRef(value: string): DefinitionRef {
  const slash = value.indexOf('/');
  if (slash < 0)
    throw new DefinitionRefError(`${shown(value)} is not <kind>/<name>, like flow/joiner-standard`);
  const kindText = value.slice(0, slash);
  const name = value.slice(slash + 1);
  const kind = DEFINITION_KINDS.find((k) => k.toLowerCase() === kindText.toLowerCase());
  if (!kind)
    throw new DefinitionRefError(
      `${shown(kindText)} is not a definition kind; kinds: ${DEFINITION_KINDS.map((k) => k.toLowerCase()).join(', ')}`,
    );
  if (!NAME_PATTERN.test(name))
    throw new DefinitionRefError(
      `${shown(name)} is not a ${kind} name: names are lowercase words joined by dashes, like joiner-standard`,
    );
  return { kind, name };
}
