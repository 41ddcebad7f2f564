import { EngineError } from '../errors';
import { checkSchema, type JsonSchema } from '../json-schema/json-schema';
import type { CrewDefinition } from './crew.schema';

export interface ResolvedParams {
  /** Every declared parameter with its value as text (what `{{name}}` becomes). */
  values: Record<string, string>;
  /** Parsed values of `json-schema` parameters. */
  schemas: Record<string, JsonSchema>;
}

/**
 * Applies defaults and checks the parameters given to a crew run: each required one present, each value of the
 * declared type, no unknown names (a typo would otherwise be silently ignored). Throws a permanent EngineError
 * (`invalid_params`) naming every problem.
 */
export function resolveParams(crew: CrewDefinition, given: Record<string, string> = {}): ResolvedParams {
  const problems: string[] = [];
  const values: Record<string, string> = {};
  const schemas: Record<string, JsonSchema> = {};
  for (const name of Object.keys(given)) {
    if (!(name in crew.params)) problems.push(`${name}: unknown parameter for crew "${crew.name}"`);
  }
  for (const [name, param] of Object.entries(crew.params)) {
    const raw = given[name] ?? (param.default === undefined ? undefined : String(param.default));
    if (raw === undefined || raw.trim() === '') {
      if (param.required !== false) problems.push(`${name}: required parameter is missing`);
      values[name] = '';
      continue;
    }
    switch (param.type) {
      case 'string':
        values[name] = raw;
        break;
      case 'integer': {
        const n = Number(raw.trim());
        if (!Number.isInteger(n)) problems.push(`${name}: must be an integer, got "${raw}"`);
        else if (param.min !== undefined && n < param.min)
          problems.push(`${name}: must be at least ${param.min}`);
        else if (param.max !== undefined && n > param.max)
          problems.push(`${name}: must be at most ${param.max}`);
        values[name] = String(n);
        break;
      }
      case 'json-schema': {
        let schema: unknown;
        try {
          schema = JSON.parse(raw);
        } catch {
          problems.push(`${name}: must be a JSON schema written as JSON`);
          break;
        }
        const schemaProblems = checkSchema(schema);
        if (schemaProblems.length > 0) problems.push(...schemaProblems.map((p) => `${name}: ${p}`));
        else {
          schemas[name] = schema as JsonSchema;
          values[name] = JSON.stringify(schema, null, 2);
        }
        break;
      }
    }
  }
  if (problems.length > 0) {
    throw new EngineError('permanent', 'invalid_params', `invalid params: ${problems.join('; ')}`, {
      details: problems,
    });
  }
  return { values, schemas };
}

/** Replaces `{{name}}` placeholders (validated against the declared parameters when the crew was loaded). */
export function substitute(text: string, values: Record<string, string>): string {
  return text.replace(
    /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g,
    (whole, name: string) => values[name] ?? whole,
  );
}
