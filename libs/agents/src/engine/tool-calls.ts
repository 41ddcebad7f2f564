import { AIMessage, ToolMessage, type ToolCall } from '@langchain/core/messages';
import { interopSafeParseAsync, isInteropZodSchema } from '@langchain/core/utils/types';
import { EngineError } from '../errors';
import type { AgentTool } from '../tools/registry';

/** Longest tool result given back to the model; the rest is cut with a note. */
export const MAX_TOOL_RESULT_CHARS = 20_000;

export const DEFAULT_MAX_TOOL_ROUNDS = 5;

/** Said to the model after its last permitted round of tool calls, before it is asked again without tools. */
export function finalAnswerPrompt(rounds: number): string {
  return (
    `You have used all ${rounds} round(s) of tool calls allowed. Tools are no longer available: ` +
    'answer the task now, in the expected format, with what you have found.'
  );
}

export interface ToolRound {
  /** The model's answer to append to the conversation: every call has an id, malformed calls included. */
  assistant: AIMessage;
  /** One result per call, in the order of the calls. */
  results: ToolMessage[];
  /** Calls whose result is an error (unknown tool, bad arguments, the tool failed). */
  failed: number;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function issuesText(issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string }>): string {
  return issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '') + issue.message)
    .join('; ');
}

function resultText(output: unknown): string {
  const text =
    typeof output === 'string'
      ? output
      : output instanceof ToolMessage
        ? output.text
        : (JSON.stringify(output) ?? String(output));
  return text.length > MAX_TOOL_RESULT_CHARS
    ? `${text.slice(0, MAX_TOOL_RESULT_CHARS)}\n[result cut at ${MAX_TOOL_RESULT_CHARS} characters]`
    : text;
}

/**
 * Runs one tool call. Whatever goes wrong with it (unknown tool, arguments the tool's schema rejects, the tool
 * throwing) becomes a ToolMessage with status `error` and the reason, so the model can correct itself; only the
 * run's cancellation is thrown.
 */
export async function runToolCall(
  call: ToolCall & { id: string },
  tools: ReadonlyMap<string, AgentTool>,
  signal?: AbortSignal,
): Promise<ToolMessage> {
  const reply = (content: string, status: 'success' | 'error') =>
    new ToolMessage({ content, tool_call_id: call.id, name: call.name, status });
  const tool = tools.get(call.name);
  if (!tool) {
    return reply(
      `Error: unknown tool "${call.name}"; available tools: ${[...tools.keys()].join(', ')}`,
      'error',
    );
  }
  let args: unknown = call.args;
  if (isInteropZodSchema(tool.schema)) {
    const parsed = await interopSafeParseAsync(tool.schema, call.args);
    if (!parsed.success) {
      return reply(`Error: invalid arguments for ${call.name}: ${issuesText(parsed.error.issues)}`, 'error');
    }
    args = parsed.data;
  }
  try {
    const output: unknown = await tool.invoke(args as Parameters<AgentTool['invoke']>[0], { signal });
    return reply(resultText(output), 'success');
  } catch (error) {
    if (signal?.aborted) throw EngineError.cancelled(signal.reason);
    return reply(`Error: ${call.name} failed: ${errorText(error)}`, 'error');
  }
}

/**
 * Runs every tool call of a model answer, one after the other. Calls whose arguments were not valid JSON
 * (`invalid_tool_calls`) are answered with an error too; calls without an id get one (`<name>-<round>-<i>`), so
 * each result can be matched to its call.
 */
export async function runToolRound(
  answer: AIMessage,
  tools: ReadonlyMap<string, AgentTool>,
  round: number,
  signal?: AbortSignal,
): Promise<ToolRound> {
  const calls: Array<ToolCall & { id: string }> = [];
  const results: ToolMessage[] = [];
  let failed = 0;
  let rebuilt = false;
  const idFor = (id: string | undefined, name: string) => {
    if (id) return id;
    rebuilt = true;
    return `${name}-${round}-${calls.length}`;
  };
  for (const call of answer.tool_calls ?? []) {
    signal?.throwIfAborted();
    const withId = { ...call, id: idFor(call.id, call.name) };
    calls.push(withId);
    const result = await runToolCall(withId, tools, signal);
    if (result.status === 'error') failed++;
    results.push(result);
  }
  for (const invalid of answer.invalid_tool_calls ?? []) {
    rebuilt = true;
    const name = invalid.name ?? 'unknown';
    const withId = { name, args: {}, id: idFor(invalid.id, name), type: 'tool_call' as const };
    calls.push(withId);
    failed++;
    results.push(
      new ToolMessage({
        content: `Error: the arguments of ${name} are not valid JSON (${invalid.error ?? 'unparsable'}): ${invalid.args ?? ''}`,
        tool_call_id: withId.id,
        name,
        status: 'error',
      }),
    );
  }
  const assistant = rebuilt
    ? new AIMessage({
        content: answer.content,
        tool_calls: calls,
        id: answer.id,
        additional_kwargs: answer.additional_kwargs,
        response_metadata: answer.response_metadata,
        usage_metadata: answer.usage_metadata,
      })
    : answer;
  return { assistant, results, failed };
}

/** The answer asks for tools (valid or malformed calls). */
export function wantsTools(answer: AIMessage): boolean {
  return (answer.tool_calls?.length ?? 0) + (answer.invalid_tool_calls?.length ?? 0) > 0;
}
