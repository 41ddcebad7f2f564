import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { checkSchema, validateJson, type JsonSchema } from '../json-schema/json-schema';

export interface JsonValidation {
  valid: boolean;
  /** Each as `$.path: message`. */
  errors: string[];
}

function parse(text: string, what: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { error: `${what} is not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * Checks a JSON text against a JSON schema (the subset of ../json-schema). A JSON text that does not parse is
 * an invalid result; a schema that does not parse or uses unsupported keywords is an error (thrown), since
 * nothing can be checked against it.
 */
export function checkJsonText(json: string, schemaText: string): JsonValidation {
  const schema = parse(schemaText, 'the schema');
  if ('error' in schema) throw new Error(schema.error);
  const problems = checkSchema(schema.value);
  if (problems.length > 0) {
    throw new Error(`the schema cannot be used: ${problems.join('; ')}`);
  }
  const value = parse(json, 'the text');
  if ('error' in value) return { valid: false, errors: [`$: ${value.error}`] };
  const errors = validateJson(value.value, schema.value as JsonSchema);
  return { valid: errors.length === 0, errors };
}

export function createValidateJsonTool() {
  return tool(({ json, schema }) => JSON.stringify(checkJsonText(json, schema)), {
    name: 'validate_json',
    description:
      'Checks that a JSON text parses and conforms to a JSON schema (supported keywords: type, properties, ' +
      'required, items, enum, description, title). Returns {"valid": true, "errors": []} or the list of ' +
      'errors, each with its JSON path. Use it to check a JSON answer before you give it.',
    schema: z.object({
      json: z.string().describe('The JSON text to check'),
      schema: z.string().min(1).describe('The JSON schema, as JSON text'),
    }),
  });
}
