import type { JsonSchema } from './argo-schemas';
import { isObject, toJsonPath, type PathSegment } from './json-path';

export interface UnknownField {
  path: string;
  message: string;
}

const DEFINITION_REF = '#/definitions/';

/**
 * Walks `value` alongside the schema.json definition `definition` (following `$ref`s) and reports every
 * property that the definition's `properties` do not name. Argo's schema (and the CRD, which Kubernetes
 * prunes rather than rejects) let a misspelt field such as `retryStategy` through; this does not.
 * Maps (`additionalProperties`) are walked value by value; objects the schema leaves free-form are not.
 */
export function findUnknownFields(value: unknown, root: JsonSchema, definition: string): UnknownField[] {
  const definitions = (root['definitions'] ?? {}) as Record<string, JsonSchema>;
  if (!definitions[definition]) throw new Error(`schema.json has no definition ${definition}`);
  const found: UnknownField[] = [];

  const resolve = (schema: JsonSchema): { schema: JsonSchema; name?: string } => {
    let name: string | undefined;
    for (let depth = 0; typeof schema['$ref'] === 'string'; depth++) {
      const ref = schema['$ref'];
      if (!ref.startsWith(DEFINITION_REF) || depth > 32) throw new Error(`Cannot resolve ${ref}`);
      name = ref.slice(DEFINITION_REF.length);
      const target = definitions[name];
      if (!target) throw new Error(`schema.json has no definition ${name}`);
      schema = target;
    }
    return { schema, name };
  };

  const walk = (node: unknown, schemaIn: JsonSchema, typeName: string, path: PathSegment[]): void => {
    const { schema, name = typeName } = resolve(schemaIn);
    for (const keyword of ['allOf', 'anyOf', 'oneOf'] as const) {
      // Not used by Argo's definitions today; refuse to guess rather than silently accept.
      if (schema[keyword])
        throw new Error(`${keyword} at ${toJsonPath(path)} is not supported by the strict check`);
    }
    if (Array.isArray(node)) {
      const items = schema['items'];
      if (isObject(items)) node.forEach((item, i) => walk(item, items, name, [...path, i]));
      return;
    }
    if (!isObject(node)) return;
    const properties = schema['properties'];
    const additional = schema['additionalProperties'];
    if (isObject(properties)) {
      for (const [key, child] of Object.entries(node)) {
        const property = properties[key];
        if (isObject(property)) walk(child, property, `${name}.${key}`, [...path, key]);
        else if (isObject(additional)) walk(child, additional, name, [...path, key]);
        else if (additional !== true)
          found.push({
            path: toJsonPath([...path, key]),
            message: `unknown field "${key}" (${name} has no such property${suggest(key, Object.keys(properties))})`,
          });
      }
    } else if (isObject(additional)) {
      for (const [key, child] of Object.entries(node)) walk(child, additional, name, [...path, key]);
    }
  };

  walk(value, { $ref: `${DEFINITION_REF}${definition}` }, definition, []);
  return found;
}

/** `; did you mean "retryStrategy"?` when a known property is one or two edits away. */
function suggest(key: string, known: string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best ? `; did you mean "${best}"?` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}
