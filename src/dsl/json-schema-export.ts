/**
 * The JSON Schema of a definition document (any kind), generated from the zod schemas so the
 * editor and the compiler agree on the structure.
 */
import * as z from 'zod';
import {
  API_VERSION,
  ConnectorDocument,
  CorrelationDocument,
  EntitlementSet,
  FlowDocument,
  PolicyDocument,
  RoleDocument,
  RoleGrant,
  SodRuleDocument,
  SourceDefinitionDocument,
  TemplateDocument,
} from './schema';

/**
 * Schemas that let any key through so the compiler can name what a connector's type declares;
 * for editors they are closed like every other mapping.
 */
const CLOSED_FOR_EDITORS = new Set<z.core.$ZodType>([EntitlementSet, RoleGrant]);

export function definitionJsonSchema(): Record<string, unknown> {
  const document = z
    .union([
      FlowDocument,
      PolicyDocument,
      ConnectorDocument,
      TemplateDocument,
      RoleDocument,
      SodRuleDocument,
      CorrelationDocument,
      SourceDefinitionDocument,
    ])
    .meta({
      title: `idflow definition (${API_VERSION})`,
      description:
        'A Flow, Policy, Connector, Template, Role, SodRule, Correlation or Source document.',
    });
  return z.toJSONSchema(document, {
    target: 'draft-7',
    unrepresentable: 'any',
    override: (ctx) => {
      if (CLOSED_FOR_EDITORS.has(ctx.zodSchema)) ctx.jsonSchema.additionalProperties = false;
    },
  });
}
