import type { StructuredToolInterface } from '@langchain/core/tools';
import { createCalculatorTool } from './calculator';
import { createSearchDocumentTool } from './search-document';
import { createValidateJsonTool } from './validate-json';
import { createWordCountTool } from './word-count';

/** What a tool may read of the run it belongs to. */
export interface ToolContext {
  document: { name: string; text: string };
}

export type AgentTool = StructuredToolInterface;

/**
 * The built-in tools, by the name a crew lists under `agents[].tools`. None needs a network or a secret. Tools
 * are built per run (and per agent), so a tool that reads the document reads the document of its own run.
 */
const TOOL_FACTORIES = {
  calculator: () => createCalculatorTool(),
  search_document: (context: ToolContext) => createSearchDocumentTool(context.document),
  validate_json: () => createValidateJsonTool(),
  word_count: (context: ToolContext) => createWordCountTool(context.document),
} satisfies Record<string, (context: ToolContext) => AgentTool>;

export type ToolName = keyof typeof TOOL_FACTORIES;
export const TOOL_NAMES = Object.keys(TOOL_FACTORIES).sort() as ToolName[];

export function isToolName(name: string): name is ToolName {
  return Object.hasOwn(TOOL_FACTORIES, name);
}

/** `unknown tool "x"; known: calculator, ...` (crew validation prefixes the field). */
export function unknownToolMessage(name: string): string {
  return `unknown tool "${name}"; known: ${TOOL_NAMES.join(', ')}`;
}

/** Fresh instances of the named tools for one run; throws on an unknown name (validated crews have none). */
export function createTools(names: readonly string[], context: ToolContext): AgentTool[] {
  return names.map((name) => {
    if (!isToolName(name)) throw new Error(unknownToolMessage(name));
    return TOOL_FACTORIES[name](context);
  });
}
