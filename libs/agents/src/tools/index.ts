export { TOOL_NAMES, createTools, isToolName, unknownToolMessage } from './registry';
export type { AgentTool, ToolContext, ToolName } from './registry';
export { evaluateArithmetic, CalculatorError } from './calculator';
export { searchText } from './search-document';
export type { Passage, SearchResult } from './search-document';
export { textStatistics, WORDS_PER_MINUTE } from './word-count';
export type { TextStatistics } from './word-count';
export { checkJsonText } from './validate-json';
export type { JsonValidation } from './validate-json';
