import { HumanMessage, SystemMessage, type BaseMessage } from '@langchain/core/messages';
import type { TaskKind } from '../crew/crew.schema';

/**
 * The prompt format. Every agent call is one system message and one human message (plus, on a JSON retry, the
 * rejected answer and a human message listing the errors; for an agent with tools, each round's tool-calling
 * answer and its tool results, and after the last allowed round a human message asking for the final answer).
 *
 * System message:
 *   Agent-Id: <agent id>
 *   Role: <role>
 *   Goal: <goal>
 *   (blank line, then the instructions)
 *
 * Human message: header lines, a blank line, then sections and blocks:
 *   Task-Kind: summarize | summarize-merge | translate | extract | rewrite | write | critique | plan | generic
 *   Task-Id: <task id>
 *   Output-Format: markdown | json
 *   Chunk: 2/5                      (map tasks only)
 *   Round: 2                        (writer/critic loops only)
 *   Params: {"targetLanguage":"French"}   (one line of JSON, every crew parameter)
 *
 *   ## Task
 *   <description, with {{params}} substituted>
 *
 *   ## Expected output
 *   <expected output>
 *
 *   <<<BEGIN CONTEXT task="draft">>>       (one block per context output; also FEEDBACK, PREVIOUS-DRAFT,
 *   ...                                     JSON-SCHEMA, AGENTS, TASKS blocks)
 *   <<<END CONTEXT>>>
 *
 *   <<<BEGIN DOCUMENT name="report.md">>>
 *   ...
 *   <<<END DOCUMENT>>>
 *
 * The offline model parses exactly this (see `parsePrompt`); real models read it as plain instructions.
 */

export type BlockType =
  'DOCUMENT' | 'CONTEXT' | 'FEEDBACK' | 'PREVIOUS-DRAFT' | 'JSON-SCHEMA' | 'AGENTS' | 'TASKS';

export interface PromptBlock {
  type: BlockType;
  attrs: Record<string, string>;
  text: string;
}

export interface AgentPrompt {
  agentId: string;
  role: string;
  goal: string;
  instructions: string;
}

export interface TaskPrompt {
  kind: TaskKind;
  taskId: string;
  format: 'markdown' | 'json';
  chunk?: { index: number; total: number };
  round?: number;
  params: Record<string, string>;
  description: string;
  expectedOutput: string;
  blocks: PromptBlock[];
  /** Text after the blocks, e.g. how to answer. */
  footer?: string;
}

function attrText(attrs: Record<string, string>): string {
  return Object.entries(attrs)
    .map(([k, v]) => ` ${k}=${JSON.stringify(v)}`)
    .join('');
}

export function renderBlock(block: PromptBlock): string {
  return `<<<BEGIN ${block.type}${attrText(block.attrs)}>>>\n${block.text}\n<<<END ${block.type}>>>`;
}

export function renderSystem(agent: AgentPrompt): string {
  const head = `Agent-Id: ${agent.agentId}\nRole: ${agent.role}\nGoal: ${agent.goal}`;
  return agent.instructions.trim() ? `${head}\n\n${agent.instructions.trim()}` : head;
}

export function renderTask(task: TaskPrompt): string {
  const headers = [`Task-Kind: ${task.kind}`, `Task-Id: ${task.taskId}`, `Output-Format: ${task.format}`];
  if (task.chunk) headers.push(`Chunk: ${task.chunk.index + 1}/${task.chunk.total}`);
  if (task.round !== undefined) headers.push(`Round: ${task.round}`);
  headers.push(`Params: ${JSON.stringify(task.params)}`);
  const parts = [
    headers.join('\n'),
    `## Task\n${task.description.trim()}`,
    `## Expected output\n${task.expectedOutput.trim()}`,
    ...task.blocks.map(renderBlock),
  ];
  if (task.footer) parts.push(task.footer.trim());
  return parts.join('\n\n');
}

export function buildMessages(agent: AgentPrompt, task: TaskPrompt): BaseMessage[] {
  return [new SystemMessage(renderSystem(agent)), new HumanMessage(renderTask(task))];
}

// ---- parsing (used by the offline model) ----

export interface ParsedPrompt {
  agent: Partial<AgentPrompt>;
  headers: Record<string, string>;
  kind: string;
  params: Record<string, string>;
  sections: Record<string, string>;
  blocks: PromptBlock[];
}

function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '') break;
    const m = /^([A-Za-z][A-Za-z-]*):\s?(.*)$/.exec(line);
    if (!m) break;
    headers[m[1]] = m[2];
  }
  return headers;
}

export function parseBlocks(text: string): PromptBlock[] {
  const blocks: PromptBlock[] = [];
  const re = /<<<BEGIN ([A-Z-]+)((?: [a-z]+="(?:[^"\\]|\\.)*")*)>>>\n([\s\S]*?)\n<<<END \1>>>/g;
  for (const m of text.matchAll(re)) {
    const attrs: Record<string, string> = {};
    for (const a of m[2].matchAll(/ ([a-z]+)=("(?:[^"\\]|\\.)*")/g)) attrs[a[1]] = JSON.parse(a[2]) as string;
    blocks.push({ type: m[1] as BlockType, attrs, text: m[3] });
  }
  return blocks;
}

function parseSections(text: string): Record<string, string> {
  const withoutBlocks = text.replace(/<<<BEGIN ([A-Z-]+)[^\n]*>>>\n[\s\S]*?\n<<<END \1>>>/g, '');
  const sections: Record<string, string> = {};
  const parts = withoutBlocks.split(/^## (.+)$/m);
  for (let i = 1; i < parts.length; i += 2) sections[parts[i].trim()] = parts[i + 1].trim();
  return sections;
}

function contentText(message: BaseMessage): string {
  return typeof message.content === 'string'
    ? message.content
    : message.content
        .map((part) => ('text' in part && typeof part.text === 'string' ? part.text : ''))
        .join('');
}

/** Reads back what `buildMessages` wrote: the system message and the first human message with a Task-Kind. */
export function parsePrompt(messages: BaseMessage[]): ParsedPrompt {
  const system = messages.find((m) => m.getType() === 'system');
  const human = messages.find((m) => m.getType() === 'human' && /^Task-Kind:/m.test(contentText(m)));
  const agent: Partial<AgentPrompt> = {};
  if (system) {
    const text = contentText(system);
    const headers = parseHeaders(text);
    agent.agentId = headers['Agent-Id'];
    agent.role = headers['Role'];
    agent.goal = headers['Goal'];
    agent.instructions = text.split(/\n\n/).slice(1).join('\n\n');
  }
  const text = human ? contentText(human) : messages.map(contentText).join('\n\n');
  const headers = human ? parseHeaders(text) : {};
  let params: Record<string, string> = {};
  try {
    params = headers['Params'] ? (JSON.parse(headers['Params']) as Record<string, string>) : {};
  } catch {
    params = {};
  }
  return {
    agent,
    headers,
    kind: headers['Task-Kind'] ?? 'generic',
    params,
    sections: parseSections(text),
    blocks: parseBlocks(text),
  };
}
