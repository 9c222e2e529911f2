/**
 * The JSON Schema of a definition document (any kind), generated from the zod schemas so the
 * editor and the compiler agree on the structure.
 */
import * as z from 'zod';
import {
  API_VERSION,
  ConnectorDocument,
  FlowDocument,
  PolicyDocument,
  TemplateDocument,
} from './schema';

export function definitionJsonSchema(): Record<string, unknown> {
  const document = z
    .union([FlowDocument, PolicyDocument, ConnectorDocument, TemplateDocument])
    .meta({
      title: `idflow definition (${API_VERSION})`,
      description: 'A Flow, Policy, Connector or Template document.',
    });
  return z.toJSONSchema(document, { target: 'draft-7', unrepresentable: 'any' });
}
