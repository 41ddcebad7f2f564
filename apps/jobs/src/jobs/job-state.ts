import {
  TERMINAL_JOB_STATUSES,
  type JobDocumentStatus,
  type JobEvent,
  type JobStage,
  type JobStatus,
} from '@docflow/contracts';

const RANK: Record<JobStatus, number> = {
  queued: 0,
  submitted: 1,
  running: 2,
  completed: 3,
  completed_with_errors: 3,
  failed: 3,
  cancelled: 3,
};

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_JOB_STATUSES.includes(status);
}

/** Transitions only move forward, and a finished job never changes again. */
export function canMove(from: JobStatus, to: JobStatus): boolean {
  return !isTerminal(from) && RANK[to] > RANK[from];
}

export interface InputState {
  status: JobDocumentStatus;
  stage: JobStage | null;
  progress: number;
}

const STAGE_SPAN: Record<JobStage, [number, number]> = {
  extract: [0, 10],
  transform: [10, 90],
  load: [90, 100],
};

const STAGE_RANK: Record<JobStage, number> = { extract: 0, transform: 1, load: 2 };

/**
 * An input after an event. A finished input (completed, failed, cancelled) never changes; neither progress nor
 * stage ever goes back (events may arrive out of order).
 */
export function applyToInput(
  state: InputState,
  event: Pick<JobEvent, 'type' | 'stage' | 'progress' | 'error'>,
): InputState {
  if (state.status === 'completed' || state.status === 'failed' || state.status === 'cancelled') return state;
  const forward = (progress: number, stage: JobStage | null): InputState => ({
    status: 'running',
    stage: stage && (!state.stage || STAGE_RANK[stage] >= STAGE_RANK[state.stage]) ? stage : state.stage,
    progress: Math.max(state.progress, Math.round(progress)),
  });
  switch (event.type) {
    case 'stage_started':
      return event.stage ? forward(STAGE_SPAN[event.stage][0], event.stage) : state;
    case 'stage_progress': {
      if (!event.stage) return state;
      const [from, to] = STAGE_SPAN[event.stage];
      return forward(
        from + ((to - from) * Math.min(100, Math.max(0, event.progress ?? 0))) / 100,
        event.stage,
      );
    }
    case 'stage_completed':
      return event.stage ? forward(STAGE_SPAN[event.stage][1], event.stage) : state;
    case 'doc_completed':
      return { status: 'completed', stage: 'load', progress: 100 };
    case 'doc_failed':
      // A retryable failure is not the end: the engine retries the step (exit 75). If the retries run out,
      // the workflow ends and reconciliation fails the input.
      if (event.error?.kind === 'retryable') return state;
      return { ...state, status: 'failed', stage: event.stage ?? state.stage };
    default:
      return state;
  }
}

/** The job's status once every input is finished; undefined while one still runs. */
export function finalStatus(inputs: { status: JobDocumentStatus }[]): JobStatus | undefined {
  if (inputs.length === 0 || inputs.some((i) => i.status === 'pending' || i.status === 'running'))
    return undefined;
  if (inputs.every((i) => i.status === 'completed')) return 'completed';
  if (inputs.every((i) => i.status !== 'completed')) return 'failed';
  return 'completed_with_errors';
}

/** The job's progress: the mean of its inputs'. Finished inputs count as 100. */
export function jobProgress(inputs: { status: JobDocumentStatus; progress: number }[]): number {
  if (inputs.length === 0) return 0;
  const sum = inputs.reduce(
    (acc, i) => acc + (i.status === 'completed' || i.status === 'failed' ? 100 : i.progress),
    0,
  );
  return Math.floor(sum / inputs.length);
}

const isOpen = (status: JobDocumentStatus) => status === 'pending' || status === 'running';
/** What an input adds to the job's progress sum: a finished input (completed or failed) counts 100. */
const progressOf = (input: { status: JobDocumentStatus; progress: number }) =>
  input.status === 'completed' || input.status === 'failed' ? 100 : input.progress;

/** How the job's counters move when one input goes from `before` to `after`. */
export function countChange(
  before: { status: JobDocumentStatus; progress: number },
  after: { status: JobDocumentStatus; progress: number },
): { open: number; completed: number; progress: number } {
  return {
    open: Number(isOpen(after.status)) - Number(isOpen(before.status)),
    completed: Number(after.status === 'completed') - Number(before.status === 'completed'),
    progress: progressOf(after) - progressOf(before),
  };
}

/** The counters of a job's inputs, as kept on the job row. */
export interface InputCounters {
  inputsTotal: number;
  inputsOpen: number;
  inputsCompleted: number;
  progressSum: number;
}

/** Counters for a fresh set of inputs (or recounted from them). */
export function countInputs(inputs: { status: JobDocumentStatus; progress: number }[]): InputCounters {
  return {
    inputsTotal: inputs.length,
    inputsOpen: inputs.filter((i) => isOpen(i.status)).length,
    inputsCompleted: inputs.filter((i) => i.status === 'completed').length,
    progressSum: inputs.reduce((sum, i) => sum + progressOf(i), 0),
  };
}

/** {@link jobProgress} from the counters. */
export function countedProgress(counters: InputCounters): number {
  return counters.inputsTotal === 0 ? 0 : Math.floor(counters.progressSum / counters.inputsTotal);
}

/** {@link finalStatus} from the counters. */
export function countedFinalStatus(counters: InputCounters): JobStatus | undefined {
  if (counters.inputsTotal === 0 || counters.inputsOpen > 0) return undefined;
  if (counters.inputsCompleted === counters.inputsTotal) return 'completed';
  if (counters.inputsCompleted === 0) return 'failed';
  return 'completed_with_errors';
}
