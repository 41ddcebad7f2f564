import { z } from 'zod';

/**
 * A crew is data: agents, tasks and a process, written as JSON or YAML and validated by this schema
 * (then by `checkCrewReferences` for what a schema cannot say: ids that must exist, order, cycles).
 */

const ID_MESSAGE = 'must start with a letter and contain only letters, digits, "-" and "_"';
export const idSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, ID_MESSAGE);

/**
 * What a task asks for, written into the prompt as a `Task-Kind:` line so that models (and the offline model,
 * which has nothing else to go on) can recognise it. `generic` is any other task.
 */
export const TASK_KINDS = [
  'generic',
  'summarize',
  'summarize-merge',
  'translate',
  'extract',
  'rewrite',
  'write',
  'critique',
] as const;
export type TaskKind = (typeof TASK_KINDS)[number] | 'plan';

export const modelSpecFields = {
  provider: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  temperature: z.number().min(0).max(2).optional(),
};

export const MAX_TOOL_ROUNDS_LIMIT = 20;
const maxToolRoundsSchema = z.number().int().min(1).max(MAX_TOOL_ROUNDS_LIMIT);

export const agentSchema = z.strictObject({
  id: idSchema,
  role: z.string().min(1),
  goal: z.string().min(1),
  instructions: z.string().default(''),
  ...modelSpecFields,
  /** Names of built-in tools the agent may call (see ../tools: search_document, word_count, calculator...). */
  tools: z.array(z.string().min(1)).default([]),
  /** Rounds of tool calls before the agent must answer without tools; the crew's setting (default 5) when unset. */
  maxToolRounds: maxToolRoundsSchema.optional(),
});

export const taskSchema = z.strictObject({
  id: idSchema,
  kind: z.enum(TASK_KINDS).default('generic'),
  /** May contain `{{param}}` placeholders. */
  description: z.string().min(1),
  expectedOutput: z.string().min(1),
  agent: idSchema,
  /** Ids of earlier tasks whose outputs are given to this one. */
  context: z.array(idSchema).default([]),
  /** `json`: the answer must be JSON, validated against the JSON schema in the param named by `jsonSchemaParam`. */
  format: z.enum(['markdown', 'json']).default('markdown'),
  jsonSchemaParam: z.string().min(1).optional(),
});

export const paramSchema = z.strictObject({
  description: z.string().default(''),
  /** `json-schema`: a JSON schema (as JSON text) in the subset of ../json-schema; `integer`: a whole number. */
  type: z.enum(['string', 'integer', 'json-schema']).default('string'),
  /** Defaults to true when there is no default. */
  required: z.boolean().optional(),
  default: z.union([z.string(), z.number()]).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
});

const sequentialProcess = z.strictObject({
  type: z.literal('sequential'),
  /**
   * A writer/critic loop: after the critic task, when its answer does not start with `approvedToken` and fewer
   * than `maxRounds` drafts were written, the writer task runs again with the critic's feedback.
   */
  review: z
    .strictObject({
      writer: idSchema,
      critic: idSchema,
      maxRounds: z.union([z.number().int().min(1), z.string().min(1)]).default(2),
      approvedToken: z.string().min(1).default('APPROVED'),
    })
    .optional(),
});

const hierarchicalProcess = z.strictObject({
  type: z.literal('hierarchical'),
  /** The agent that plans: it assigns each task to one of the other agents, in the order they should run. */
  manager: idSchema,
});

const mapReduceProcess = z.strictObject({
  type: z.literal('map-reduce'),
  /** Runs once per chunk of the document. */
  map: idSchema,
  /** Runs once over the outputs of the map task. Without it the outputs are combined by `combine`. */
  reduce: idSchema.optional(),
  combine: z.enum(['concat', 'json-merge']).default('concat'),
});

export const processSchema = z.preprocess(
  (value) => (typeof value === 'string' ? { type: value } : value),
  z.discriminatedUnion('type', [sequentialProcess, hierarchicalProcess, mapReduceProcess]),
);

export const crewSchema = z.strictObject({
  name: idSchema,
  description: z.string().default(''),
  /** Provider, model and temperature for agents that do not set their own. */
  defaults: z.strictObject(modelSpecFields).default({}),
  params: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an identifier'), paramSchema)
    .default({}),
  agents: z.array(agentSchema).min(1),
  tasks: z.array(taskSchema).min(1),
  process: processSchema,
  /** The task whose output is the crew's output; the last task by default (the reduce task for map-reduce). */
  output: idSchema.optional(),
  /** Rounds of tool calls an agent with tools may make for one answer (default 5); an agent may set its own. */
  maxToolRounds: maxToolRoundsSchema.optional(),
});

export type CrewDefinition = z.output<typeof crewSchema>;
/** What a crew file may contain: defaults may be left out. */
export type CrewInput = z.input<typeof crewSchema>;
export type AgentDefinition = z.output<typeof agentSchema>;
export type TaskDefinition = z.output<typeof taskSchema>;
export type ParamDefinition = z.output<typeof paramSchema>;
export type ProcessDefinition = z.output<typeof processSchema>;
