import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { EngineError } from '../errors';
import { isToolName, unknownToolMessage } from '../tools/registry';
import { crewSchema, type CrewDefinition } from './crew.schema';

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** `agents[1].role` from `['agents', 1, 'role']`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

function formatIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${formatPath([...issue.path, key])}: Unrecognized key`);
  }
  return [`${formatPath(issue.path)}: ${issue.message}`];
}

export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

/** Reference rules a schema cannot express; each problem names its field. */
export function checkCrewReferences(crew: CrewDefinition): string[] {
  const problems: string[] = [];
  const agentIds = new Set<string>();
  crew.agents.forEach((agent, i) => {
    if (agentIds.has(agent.id)) problems.push(`agents[${i}].id: duplicate agent id "${agent.id}"`);
    agentIds.add(agent.id);
    if (!agent.provider && !crew.defaults.provider) {
      problems.push(`agents[${i}].provider: Required (or set defaults.provider)`);
    }
    if (!agent.model && !crew.defaults.model)
      problems.push(`agents[${i}].model: Required (or set defaults.model)`);
    agent.tools.forEach((name, j) => {
      if (!isToolName(name)) problems.push(`agents[${i}].tools[${j}]: ${unknownToolMessage(name)}`);
      else if (agent.tools.indexOf(name) !== j)
        problems.push(`agents[${i}].tools[${j}]: duplicate tool "${name}"`);
    });
    if (agent.maxToolRounds !== undefined && agent.tools.length === 0) {
      problems.push(`agents[${i}].maxToolRounds: the agent has no tools`);
    }
  });

  const taskIndex = new Map<string, number>();
  crew.tasks.forEach((task, i) => {
    if (taskIndex.has(task.id)) problems.push(`tasks[${i}].id: duplicate task id "${task.id}"`);
    else taskIndex.set(task.id, i);
    if (!agentIds.has(task.agent)) problems.push(`tasks[${i}].agent: unknown agent "${task.agent}"`);
  });

  // Context must name earlier tasks; a later one is reported as a cycle when it leads back here.
  const cycle = findCycle(crew);
  if (cycle) problems.push(`tasks: context cycle ${cycle.join(' -> ')}`);
  crew.tasks.forEach((task, i) => {
    task.context.forEach((ref, j) => {
      const at = taskIndex.get(ref);
      if (at === undefined) problems.push(`tasks[${i}].context[${j}]: unknown task "${ref}"`);
      else if (at === i) problems.push(`tasks[${i}].context[${j}]: a task cannot be its own context`);
      else if (at > i && !cycle)
        problems.push(`tasks[${i}].context[${j}]: task "${ref}" must come before "${task.id}"`);
    });
    if (task.format === 'json' && task.jsonSchemaParam && !(task.jsonSchemaParam in crew.params)) {
      problems.push(`tasks[${i}].jsonSchemaParam: unknown parameter "${task.jsonSchemaParam}"`);
    }
    if (task.jsonSchemaParam && crew.params[task.jsonSchemaParam]?.type !== 'json-schema') {
      if (task.jsonSchemaParam in crew.params) {
        problems.push(
          `tasks[${i}].jsonSchemaParam: parameter "${task.jsonSchemaParam}" must have type json-schema`,
        );
      }
    }
  });

  // Placeholders must name declared parameters.
  const declared = new Set(Object.keys(crew.params));
  const checkText = (text: string, where: string) => {
    for (const name of placeholdersIn(text)) {
      if (!declared.has(name))
        problems.push(`${where}: unknown parameter "${name}" (declare it under params)`);
    }
  };
  crew.agents.forEach((agent, i) => {
    checkText(agent.role, `agents[${i}].role`);
    checkText(agent.goal, `agents[${i}].goal`);
    checkText(agent.instructions, `agents[${i}].instructions`);
  });
  crew.tasks.forEach((task, i) => {
    checkText(task.description, `tasks[${i}].description`);
    checkText(task.expectedOutput, `tasks[${i}].expectedOutput`);
  });
  for (const [name, param] of Object.entries(crew.params)) {
    if (param.required === true && param.default !== undefined) {
      problems.push(`params.${name}.required: a parameter with a default is not required`);
    }
  }

  const hasTask = (id: string) => taskIndex.has(id);
  const process = crew.process;
  switch (process.type) {
    case 'sequential': {
      const review = process.review;
      if (review) {
        if (!hasTask(review.writer)) problems.push(`process.review.writer: unknown task "${review.writer}"`);
        if (!hasTask(review.critic)) problems.push(`process.review.critic: unknown task "${review.critic}"`);
        if (hasTask(review.writer) && hasTask(review.critic)) {
          if (taskIndex.get(review.writer)! >= taskIndex.get(review.critic)!) {
            problems.push(`process.review.critic: must come after the writer task "${review.writer}"`);
          }
          const critic = crew.tasks[taskIndex.get(review.critic)!];
          if (!critic.context.includes(review.writer)) {
            problems.push(
              `process.review.critic: task "${review.critic}" must have "${review.writer}" in its context`,
            );
          }
        }
        if (typeof review.maxRounds === 'string') checkText(review.maxRounds, 'process.review.maxRounds');
      }
      break;
    }
    case 'hierarchical':
      if (!agentIds.has(process.manager))
        problems.push(`process.manager: unknown agent "${process.manager}"`);
      break;
    case 'map-reduce': {
      if (!hasTask(process.map)) problems.push(`process.map: unknown task "${process.map}"`);
      if (process.reduce !== undefined && !hasTask(process.reduce)) {
        problems.push(`process.reduce: unknown task "${process.reduce}"`);
      }
      const expected = [process.map, ...(process.reduce ? [process.reduce] : [])];
      crew.tasks.forEach((task, i) => {
        if (!expected.includes(task.id)) {
          problems.push(`tasks[${i}]: a map-reduce crew has only its map and reduce tasks, not "${task.id}"`);
        }
      });
      if (process.reduce && hasTask(process.reduce)) {
        const reduce = crew.tasks[taskIndex.get(process.reduce)!];
        if (!reduce.context.includes(process.map)) {
          problems.push(`process.reduce: task "${process.reduce}" must have "${process.map}" in its context`);
        }
      }
      break;
    }
  }
  if (crew.output !== undefined && !hasTask(crew.output))
    problems.push(`output: unknown task "${crew.output}"`);
  return problems;
}

function findCycle(crew: CrewDefinition): string[] | undefined {
  const byId = new Map(crew.tasks.map((t) => [t.id, t]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const ref of byId.get(id)?.context ?? []) {
      if (ref === id || !byId.has(ref)) continue;
      const found = visit(ref);
      if (found) return found;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const task of crew.tasks) {
    const found = visit(task.id);
    if (found) return found;
  }
  return undefined;
}

/** Validates a crew given as data (already parsed); throws a permanent EngineError listing every problem. */
export function validateCrew(data: unknown): CrewDefinition {
  const result = crewSchema.safeParse(data, {
    error: (issue) => (issue.input === undefined && issue.code === 'invalid_type' ? 'Required' : undefined),
  });
  if (!result.success) throw invalidCrew(result.error.issues.flatMap(formatIssue));
  const problems = checkCrewReferences(result.data);
  if (problems.length > 0) throw invalidCrew(problems);
  return result.data;
}

function invalidCrew(details: string[]): EngineError {
  return EngineError.permanent('invalid_crew', `invalid crew: ${details.join('; ')}`, details);
}

/** Parses and validates a crew file. */
export function parseCrew(text: string, format: 'json' | 'yaml'): CrewDefinition {
  let data: unknown;
  try {
    data = format === 'json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw EngineError.permanent(
      'invalid_crew',
      `invalid crew: not valid ${format.toUpperCase()}: ${reason}`,
      [`(root): not valid ${format.toUpperCase()}: ${reason}`],
    );
  }
  return validateCrew(data);
}
