import * as agentcore from 'aws-cdk-lib/aws-bedrockagentcore';

/**
 * The part of a JSON Schema that an AgentCore Gateway Lambda target's inline tool schema can carry: `type` (one),
 * `description`, `items`, `properties`, `required` (the CloudFormation `SchemaDefinition`). Everything else (lengths,
 * patterns, enums, ranges, `additionalProperties`) cannot be declared to the gateway; the REQUEST interceptor
 * enforces it from the tool registry instead.
 */
export interface ServedSchema {
  readonly type: string;
  readonly description?: string;
  readonly items?: ServedSchema;
  readonly properties?: { [name: string]: ServedSchema };
  readonly required?: string[];
}

/** A tool definition as the gateway serves it for a Lambda target (`tools/list` entry, before the target prefix). */
export interface ServedToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: ServedSchema;
}

const SCHEMA_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array'];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Projects a JSON Schema node onto what the gateway can serve. Problems (a node without exactly one supported type)
 * are pushed to `problems` with a JSON pointer.
 */
export function projectSchema(schema: unknown, path: string, problems: string[], depth = 0): ServedSchema {
  if (!isPlainObject(schema) || depth > 32) {
    problems.push(`${path || '/'} is not a schema object`);
    return { type: 'object' };
  }
  const type = schema.type;
  if (typeof type !== 'string' || !SCHEMA_TYPES.includes(type)) {
    problems.push(`${path || '/'} needs exactly one "type" of ${SCHEMA_TYPES.join(', ')} (a gateway tool schema cannot express ${JSON.stringify(type ?? null)})`);
    return { type: 'object' };
  }
  const out: { -readonly [K in keyof ServedSchema]: ServedSchema[K] } = { type };
  if (typeof schema.description === 'string') out.description = schema.description;
  if (schema.items !== undefined) out.items = projectSchema(schema.items, `${path}/items`, problems, depth + 1);
  if (isPlainObject(schema.properties)) {
    const props: { [name: string]: ServedSchema } = {};
    for (const [name, child] of Object.entries(schema.properties)) props[name] = projectSchema(child, `${path}/properties/${name}`, problems, depth + 1);
    out.properties = props;
  }
  if (Array.isArray(schema.required) && schema.required.length > 0) out.required = schema.required.filter((r): r is string => typeof r === 'string');
  return out;
}

/** Nested object nodes that declare no properties (under strict validation they accept only `{}`), as JSON pointers. */
export function propertylessObjects(schema: unknown, path = ''): string[] {
  if (!isPlainObject(schema)) return [];
  const found: string[] = [];
  if (path !== '' && schema.type === 'object' && !isPlainObject(schema.properties)) found.push(path);
  if (isPlainObject(schema.properties)) {
    for (const [name, child] of Object.entries(schema.properties)) found.push(...propertylessObjects(child, `${path}/properties/${name}`));
  }
  if (schema.items !== undefined) found.push(...propertylessObjects(schema.items, `${path}/items`));
  return found;
}

/** The served definition: the projected input schema, with identity-bound arguments kept but never required. */
export function servedDefinition(def: { name: string; description: string; inputSchema: unknown }, boundArguments: readonly string[], problems: string[]): ServedToolDefinition {
  const projected = projectSchema(def.inputSchema, '', problems);
  if (projected.type !== 'object') problems.push('/ must be type "object"');
  const required = projected.required?.filter((r) => !boundArguments.includes(r));
  const inputSchema: ServedSchema = { ...projected, ...(required && required.length > 0 ? { required } : {}) };
  if (!required || required.length === 0) delete (inputSchema as { required?: string[] }).required;
  return { name: def.name, description: def.description, inputSchema };
}

function toSchemaDefinition(schema: ServedSchema): agentcore.SchemaDefinition {
  return {
    type: agentcore.SchemaDefinitionType.of(schema.type),
    ...(schema.description !== undefined ? { description: schema.description } : {}),
    ...(schema.items ? { items: toSchemaDefinition(schema.items) } : {}),
    ...(schema.properties ? { properties: Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, toSchemaDefinition(v)])) } : {}),
    ...(schema.required ? { required: [...schema.required] } : {}),
  };
}

/** The L2 inline tool schema for served definitions. */
export function inlineToolSchema(defs: readonly ServedToolDefinition[]): agentcore.ToolSchema {
  return agentcore.ToolSchema.fromInline(defs.map((d) => ({ name: d.name, description: d.description, inputSchema: toSchemaDefinition(d.inputSchema) })));
}
