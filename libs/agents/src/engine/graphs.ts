import { Annotation, END, Send, START, StateGraph } from '@langchain/langgraph';
import type { ProcessDefinition, TaskDefinition } from '../crew/crew.schema';
import { substitute } from '../crew/params';
import { EngineError } from '../errors';
import { validateJson } from '../json-schema/json-schema';
import { splitByTokens } from '../text/tokens';
import { mergeJson } from './json-output';
import type { CrewRun, TaskOutput } from './run-crew';

type SequentialProcess = Extract<ProcessDefinition, { type: 'sequential' }>;
type HierarchicalProcess = Extract<ProcessDefinition, { type: 'hierarchical' }>;
type MapReduceProcess = Extract<ProcessDefinition, { type: 'map-reduce' }>;

const merge = <T>(a: Record<string, T>, b: Record<string, T>): Record<string, T> => ({ ...a, ...b });
const last = <T>(_a: T, b: T): T => b;

/** Plenty for any crew a person writes; a graph that loops further is a bug. */
const RECURSION_LIMIT = 1000;

function graphConfig(run: CrewRun) {
  // maxConcurrency also keeps LangGraph from starting every map task (each one listening on the step's signal).
  return { recursionLimit: RECURSION_LIMIT, signal: run.signal, maxConcurrency: run.concurrency };
}

function outputTaskId(run: CrewRun): string {
  const { crew } = run;
  if (crew.output) return crew.output;
  if (crew.process.type === 'map-reduce') return crew.process.reduce ?? crew.process.map;
  return crew.tasks[crew.tasks.length - 1].id;
}

function finalOutput(
  run: CrewRun,
  outputs: Record<string, string>,
  json: Record<string, unknown>,
): TaskOutput {
  const id = outputTaskId(run);
  return json[id] === undefined ? { text: outputs[id] ?? '' } : { text: outputs[id] ?? '', json: json[id] };
}

const TaskState = Annotation.Root({
  /** Index (into the task order) of the next task to run. */
  cursor: Annotation<number>({ reducer: last, default: () => 0 }),
  outputs: Annotation<Record<string, string>>({ reducer: merge, default: () => ({}) }),
  json: Annotation<Record<string, unknown>>({ reducer: merge, default: () => ({}) }),
  /** Drafts written so far by the writer of a review loop. */
  rounds: Annotation<number>({ reducer: last, default: () => 0 }),
  approved: Annotation<boolean>({ reducer: last, default: () => false }),
});
type TaskStateValue = typeof TaskState.State;
type TaskStateUpdate = typeof TaskState.Update;

function isApproved(answer: string, token: string): boolean {
  const firstLine = answer.trim().split('\n')[0] ?? '';
  return firstLine
    .replace(/[*_#>`"'\s]/g, '')
    .toUpperCase()
    .startsWith(token.toUpperCase());
}

function record(task: TaskDefinition, out: TaskOutput): TaskStateUpdate {
  return {
    outputs: { [task.id]: out.text },
    ...(out.json === undefined ? {} : { json: { [task.id]: out.json } }),
  };
}

/**
 * Sequential: START → step ⟲ → END. `step` runs the task at `cursor`; with a review loop, a critic that does
 * not approve sends the cursor back to the writer until `maxRounds` drafts were written.
 */
export async function runSequential(run: CrewRun, process: SequentialProcess): Promise<TaskOutput> {
  const tasks = run.crew.tasks;
  const review = process.review;
  const maxRounds = review ? reviewRounds(run, review.maxRounds) : 0;
  const writerIndex = review ? tasks.findIndex((t) => t.id === review.writer) : -1;
  run.planSteps(tasks.length);

  const step = async (state: TaskStateValue): Promise<TaskStateUpdate> => {
    const task = tasks[state.cursor];
    const isWriter = review?.writer === task.id;
    const round = isWriter ? state.rounds + 1 : undefined;
    const blocks =
      isWriter && state.rounds > 0 && review
        ? [
            { type: 'PREVIOUS-DRAFT' as const, attrs: { task: task.id }, text: state.outputs[task.id] ?? '' },
            {
              type: 'FEEDBACK' as const,
              attrs: { task: review.critic },
              text: state.outputs[review.critic] ?? '',
            },
          ]
        : [];
    const out = await run.runTask(task, {
      outputs: state.outputs,
      document: run.document.text,
      round: review && (isWriter || review.critic === task.id) ? (round ?? state.rounds) : undefined,
      blocks,
      step: round && round > 1 ? `${task.id}#${round}` : task.id,
    });
    const update: TaskStateUpdate = { ...record(task, out), cursor: state.cursor + 1 };
    if (isWriter) update.rounds = round;
    if (review && review.critic === task.id) {
      const approved = isApproved(out.text, review.approvedToken);
      update.approved = approved;
      if (!approved && state.rounds < maxRounds) {
        update.cursor = writerIndex;
        run.planSteps(state.cursor - writerIndex + 1);
      } else {
        run.notes.push(
          approved
            ? `review: approved after ${state.rounds} round(s)`
            : `review: not approved after ${state.rounds} round(s) (maxRounds ${maxRounds}); last feedback: ${out.text.trim().slice(0, 500)}`,
        );
      }
    }
    return update;
  };

  const graph = new StateGraph(TaskState)
    .addNode('step', step)
    .addEdge(START, 'step')
    .addConditionalEdges('step', (state) => (state.cursor < tasks.length ? 'step' : END), ['step', END])
    .compile();
  const final = await graph.invoke({}, graphConfig(run));
  return finalOutput(run, final.outputs, final.json);
}

function reviewRounds(run: CrewRun, value: number | string): number {
  const text = typeof value === 'number' ? String(value) : substitute(value, run.params.values);
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw EngineError.permanent(
      'invalid_params',
      `process.review.maxRounds: must be a positive integer, got "${text}"`,
    );
  }
  return n;
}

export interface PlanStep {
  taskId: string;
  agentId: string;
  note?: string;
}

/**
 * Reads a manager's plan: lines `Delegate: <task-id> -> <agent-id>: <note>`. Unknown tasks and agents (and the
 * manager itself) are ignored; tasks the plan forgets are added in crew order with their own agents; the order
 * is then adjusted so each task runs after the tasks in its context.
 */
export function parsePlan(
  answer: string,
  tasks: TaskDefinition[],
  agentIds: string[],
  managerId: string,
): PlanStep[] {
  const steps: PlanStep[] = [];
  const byId = new Map(tasks.map((t) => [t.id, t]));
  for (const m of answer.matchAll(
    /^[\s>*-]*(?:\d+[.)]\s*)?\**Delegate:?\**\s*([\w-]+)\s*->\s*([\w-]+)\s*(?::\s*(.*))?$/gim,
  )) {
    const task = byId.get(m[1]);
    if (!task || steps.some((s) => s.taskId === task.id)) continue;
    const agentId = agentIds.includes(m[2]) && m[2] !== managerId ? m[2] : task.agent;
    steps.push({ taskId: task.id, agentId, ...(m[3]?.trim() ? { note: m[3].trim() } : {}) });
  }
  for (const task of tasks) {
    if (!steps.some((s) => s.taskId === task.id)) steps.push({ taskId: task.id, agentId: task.agent });
  }
  const ordered: PlanStep[] = [];
  const done = new Set<string>();
  while (ordered.length < steps.length) {
    const next = steps.find(
      (s) => !done.has(s.taskId) && byId.get(s.taskId)!.context.every((c) => done.has(c)),
    );
    if (!next) break; // impossible for a validated crew: context always names earlier tasks
    ordered.push(next);
    done.add(next.taskId);
  }
  return ordered;
}

const HierarchicalState = Annotation.Root({
  steps: Annotation<PlanStep[]>({ reducer: last, default: () => [] }),
  cursor: Annotation<number>({ reducer: last, default: () => 0 }),
  outputs: Annotation<Record<string, string>>({ reducer: merge, default: () => ({}) }),
  json: Annotation<Record<string, unknown>>({ reducer: merge, default: () => ({}) }),
});

/** The manager sees the start of a long document only. */
const MANAGER_DOCUMENT_TOKENS = 1500;

/** Hierarchical: START → plan (the manager) → delegate ⟲ → END. */
export async function runHierarchical(run: CrewRun, process: HierarchicalProcess): Promise<TaskOutput> {
  const { crew } = run;
  const managerId = process.manager;
  const workers = crew.agents.filter((a) => a.id !== managerId);
  run.planSteps(1 + crew.tasks.length);
  const values = run.params.values;

  const plan = async (): Promise<typeof HierarchicalState.Update> => {
    const excerpt = splitByTokens(run.document.text, MANAGER_DOCUMENT_TOKENS, 0)[0] ?? '';
    const planTask: TaskDefinition = {
      id: 'plan',
      kind: 'generic',
      description:
        'Plan the work on the document: assign every task to the agent best suited to it, in the order the tasks should run. A task may only run after the tasks it uses as context.',
      expectedOutput:
        'One line per task: `Delegate: <task-id> -> <agent-id>: <a short note for the agent>`, nothing else.',
      agent: managerId,
      context: [],
      format: 'markdown',
    };
    const out = await run.runTask(planTask, {
      outputs: {},
      document: excerpt,
      blocks: [
        {
          type: 'AGENTS',
          attrs: {},
          text: workers
            .map((a) => `- ${a.id}: ${substitute(a.role, values)}. ${substitute(a.goal, values)}`)
            .join('\n'),
        },
        {
          type: 'TASKS',
          attrs: {},
          text: crew.tasks
            .map(
              (t) =>
                `- ${t.id} (agent: ${t.agent})${t.context.length ? ` [after: ${t.context.join(', ')}]` : ''}: ${substitute(t.description, values).split('\n')[0]}`,
            )
            .join('\n'),
        },
      ],
      kindOverride: 'plan',
    });
    const steps = parsePlan(
      out.text,
      crew.tasks,
      crew.agents.map((a) => a.id),
      managerId,
    );
    run.notes.push(`plan: ${steps.map((s) => `${s.taskId} -> ${s.agentId}`).join(', ')}`);
    return { steps };
  };

  const delegate = async (
    state: typeof HierarchicalState.State,
  ): Promise<typeof HierarchicalState.Update> => {
    const stepPlan = state.steps[state.cursor];
    const task = run.task(stepPlan.taskId);
    const out = await run.runTask(task, {
      outputs: state.outputs,
      document: run.document.text,
      agentId: stepPlan.agentId,
      note: stepPlan.note,
    });
    return { ...record(task, out), cursor: state.cursor + 1 };
  };

  const graph = new StateGraph(HierarchicalState)
    .addNode('plan', plan)
    .addNode('delegate', delegate)
    .addEdge(START, 'plan')
    .addEdge('plan', 'delegate')
    .addConditionalEdges('delegate', (state) => (state.cursor < state.steps.length ? 'delegate' : END), [
      'delegate',
      END,
    ])
    .compile();
  const final = await graph.invoke({}, graphConfig(run));
  return finalOutput(run, final.outputs, final.json);
}

const MapReduceState = Annotation.Root({
  mapped: Annotation<Record<string, TaskOutput>>({ reducer: merge, default: () => ({}) }),
  result: Annotation<TaskOutput | undefined>({ reducer: last, default: () => undefined }),
});

/**
 * Map-reduce: START ⇉ map (one Send per chunk, in parallel up to the concurrency limit) → reduce → END.
 * `reduce` runs the reduce task over the map outputs, or combines them (concat / json-merge) without a model;
 * a document that fits in one chunk gets the map task only.
 */
export async function runMapReduce(
  run: CrewRun,
  process: MapReduceProcess,
  chunks: string[],
): Promise<TaskOutput> {
  const mapTask = run.task(process.map);
  const reduceTask = process.reduce === undefined ? undefined : run.task(process.reduce);
  const total = chunks.length;
  run.planSteps(total + (reduceTask && total > 1 ? 1 : 0));

  const map = async (input: { index: number }): Promise<typeof MapReduceState.Update> => {
    const out = await run.runTask(mapTask, {
      outputs: {},
      document: chunks[input.index],
      chunk: total > 1 ? { index: input.index, total } : undefined,
      step: total > 1 ? `${mapTask.id}[${input.index + 1}/${total}]` : mapTask.id,
      partialJson: total > 1 && process.combine === 'json-merge' && !reduceTask,
    });
    return { mapped: { [String(input.index)]: out } };
  };

  const reduce = async (state: typeof MapReduceState.State): Promise<typeof MapReduceState.Update> => {
    const outs = chunks.map((_, i) => state.mapped[String(i)]);
    if (total === 1) return { result: outs[0] };
    if (reduceTask) {
      const blocks = outs.map((o, i) => ({
        type: 'CONTEXT' as const,
        attrs: { task: mapTask.id, chunk: `${i + 1}/${total}` },
        text: o.text,
      }));
      // The map outputs go in as CONTEXT blocks, one per chunk, instead of the usual one per context task.
      const withoutMap = { ...reduceTask, context: reduceTask.context.filter((c) => c !== mapTask.id) };
      return { result: await run.runTask(withoutMap, { outputs: {}, document: null, blocks }) };
    }
    if (process.combine === 'json-merge') {
      const merged = mergeJson(outs.map((o) => o.json ?? null));
      const schema = mapTask.jsonSchemaParam ? run.params.schemas[mapTask.jsonSchemaParam] : undefined;
      const problems = schema ? validateJson(merged, schema) : [];
      if (problems.length > 0) {
        throw new EngineError(
          'permanent',
          'invalid_output',
          `merged JSON is invalid: ${problems.join('; ')}`,
          {
            details: problems,
          },
        );
      }
      return { result: { text: JSON.stringify(merged, null, 2), json: merged } };
    }
    return { result: { text: outs.map((o) => o.text.trim()).join('\n\n') } };
  };

  const graph = new StateGraph(MapReduceState)
    .addNode('map', map)
    .addNode('reduce', reduce)
    .addConditionalEdges(START, () => chunks.map((_, index) => new Send('map', { index })), ['map'])
    .addEdge('map', 'reduce')
    .addEdge('reduce', END)
    .compile();
  const final = await graph.invoke({}, graphConfig(run));
  if (!final.result) throw new EngineError('permanent', 'unknown', 'map-reduce produced no result');
  return final.result;
}
