import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type {
  SubmitWorkflowRequest,
  WorkflowEngine,
  WorkflowPhase,
  WorkflowStatus,
} from '../workflow-engine';
import { workflowNameFor } from '../workflow-engine';

export interface LocalWorkflowEngineOptions {
  /** The worker entrypoint (`apps/worker/dist/main.js`): the same one the container runs. */
  workerEntry: string;
  /** Environment of every step (object storage, callback URL, log level); the callback secret is added per job. */
  env: Record<string, string>;
  /** Steps running at once across all jobs. */
  concurrency: number;
  /** Retries of a step that exits 75 (retryable), as the template's retryStrategy does. */
  maxRetries?: number;
  retryBackoffMs?: number;
  /** Each line a step prints, for the platform's log. */
  onOutput?: (jobId: string, chunk: number, line: string) => void;
  /** Grace before SIGKILL when stopping a step. */
  stopGraceMs?: number;
  /** V8 old-space limit of each step, in MB (the container sets the same through NODE_OPTIONS). */
  maxOldSpaceMb?: number;
}

interface LocalJob {
  status: WorkflowStatus;
  children: Set<ChildProcess>;
  /** No more steps start (a cancel, the deadline, or shutdown). */
  halted: boolean;
  /** A cancel asked for it: reported as `stopping`, which the jobs service leaves to its cancel path. */
  cancelled: boolean;
}

const RETRYABLE_EXIT = 75;

/**
 * Runs a job's steps as child processes on this machine: the worker entrypoint with the same arguments and
 * environment as the WorkflowTemplate's container. Concurrency is bounded across jobs; a step that exits 75 is
 * retried with backoff; cancel ends each step's process group. State lives in memory: `close()` (a graceful
 * shutdown) ends every step, and so does the death of this process (a step stops when its stdin closes).
 * The jobs service then resumes unfinished jobs by submitting their unfinished chunks again; the worker skips
 * inputs an earlier run committed.
 */
export class LocalWorkflowEngine implements WorkflowEngine {
  readonly kind = 'local' as const;
  private readonly jobs = new Map<string, LocalJob>();
  private readonly listeners = new Set<(status: WorkflowStatus) => void>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: LocalWorkflowEngineOptions) {}

  async submit(request: SubmitWorkflowRequest): Promise<{ workflowName: string }> {
    const workflowName = workflowNameFor(request.jobId);
    if (this.jobs.has(request.jobId)) return { workflowName };
    const job: LocalJob = {
      status: { jobId: request.jobId, workflowName, phase: 'Pending' },
      children: new Set(),
      halted: false,
      cancelled: false,
    };
    this.jobs.set(request.jobId, job);
    this.emit(job);
    void this.run(job, request);
    return { workflowName };
  }

  async cancel(jobId: string): Promise<void> {
    const job = this.jobs.get(jobId);
    if (!job || this.finished(job)) return;
    job.cancelled = true;
    job.status = { ...job.status, stopping: true };
    this.emit(job);
    await this.halt(job);
  }

  /** Starts no more steps and ends the running ones. */
  private async halt(job: LocalJob): Promise<void> {
    job.halted = true;
    await Promise.all([...job.children].map((child) => this.stop(child)));
  }

  async status(jobId: string): Promise<WorkflowStatus | undefined> {
    const job = this.jobs.get(jobId);
    return job ? { ...job.status } : undefined;
  }

  async watch(onStatus: (status: WorkflowStatus) => void, signal: AbortSignal): Promise<void> {
    for (const job of this.jobs.values()) onStatus({ ...job.status });
    this.listeners.add(onStatus);
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    this.listeners.delete(onStatus);
  }

  /** Stops every step of every job (platform shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.jobs.values()].map((job) => this.halt(job)));
  }

  private finished(job: LocalJob): boolean {
    return job.status.phase === 'Succeeded' || job.status.phase === 'Failed' || job.status.phase === 'Error';
  }

  private emit(job: LocalJob): void {
    for (const listener of this.listeners) listener({ ...job.status });
  }

  private set(job: LocalJob, phase: WorkflowPhase, extra: Partial<WorkflowStatus> = {}): void {
    job.status = { ...job.status, phase, ...extra };
    this.emit(job);
  }

  private async slot(): Promise<() => void> {
    if (this.running >= this.options.concurrency)
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    return () => {
      this.running--;
      this.waiting.shift()?.();
    };
  }

  private async run(job: LocalJob, request: SubmitWorkflowRequest): Promise<void> {
    const chunks = request.chunks ?? Array.from({ length: request.chunkCount }, (_, i) => i);
    const failures: string[] = [];
    let next = 0;
    const lane = async () => {
      for (let chunk = chunks[next++]; chunk !== undefined; chunk = chunks[next++]) {
        if (job.halted) return;
        const code = await this.runStep(job, request, chunk);
        if (code !== 0 && !job.halted) failures.push(`step ${chunk} exited with ${code}`);
      }
    };
    const deadline = setTimeout(() => {
      failures.unshift(`exceeded the deadline of ${request.deadlineSeconds} s`);
      void this.halt(job);
    }, request.deadlineSeconds * 1000);
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(request.parallelism, chunks.length)) }, lane),
    );
    clearTimeout(deadline);
    const finishedAt = new Date().toISOString();
    if (job.cancelled) this.set(job, 'Failed', { message: 'Stopped', finishedAt });
    else if (failures.length || job.halted)
      this.set(job, 'Failed', { message: failures.join('; ') || 'Stopped', finishedAt });
    else this.set(job, 'Succeeded', { finishedAt });
  }

  /** One step, retried while it exits 75; returns the last exit code (null when killed). */
  private async runStep(
    job: LocalJob,
    request: SubmitWorkflowRequest,
    chunk: number,
  ): Promise<number | null> {
    const maxRetries = this.options.maxRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      const release = await this.slot();
      let code: number | null;
      try {
        if (job.halted) return null;
        if (job.status.phase === 'Pending') this.set(job, 'Running', { startedAt: new Date().toISOString() });
        code = await this.spawnStep(job, request, chunk);
      } finally {
        release();
      }
      if (code !== RETRYABLE_EXIT || attempt >= maxRetries || job.halted) return code;
      await new Promise((r) => setTimeout(r, (this.options.retryBackoffMs ?? 1_000) * 2 ** attempt));
    }
  }

  private spawnStep(job: LocalJob, request: SubmitWorkflowRequest, chunk: number): Promise<number | null> {
    const args = [
      'run',
      '--job',
      request.jobId,
      '--manifest',
      `s3://${request.bucket}/${request.manifestKey}`,
      '--chunk',
      String(chunk),
    ];
    const heap = this.options.maxOldSpaceMb ? [`--max-old-space-size=${this.options.maxOldSpaceMb}`] : [];
    const child = spawn(process.execPath, [...heap, this.options.workerEntry, ...args], {
      // Only what a step needs: steps read untrusted documents and must not see the service's own secrets
      // (database URL, webhook token, ...), exactly as the container gets only its ConfigMap and Secrets.
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        ...this.options.env,
        DOCFLOW_CALLBACK_SECRET: request.callbackSecret,
        // stdin stays open while this process lives: if it dies (even killed), the step sees stdin close and
        // stops, and the restarted jobs service runs the job's unfinished chunks again (see resume in docs).
        DOCFLOW_STOP_WHEN_ORPHANED: 'true',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    job.children.add(child);
    for (const stream of [child.stdout, child.stderr]) {
      if (stream)
        createInterface({ input: stream }).on('line', (line) =>
          this.options.onOutput?.(request.jobId, chunk, line),
        );
    }
    return new Promise((resolve) => {
      child.once('error', () => {
        job.children.delete(child);
        resolve(null);
      });
      child.once('exit', (code) => {
        job.children.delete(child);
        resolve(code);
      });
    });
  }

  private async stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const kill = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        child.kill(signal);
      }
    };
    const gone = new Promise((r) => child.once('exit', r));
    kill('SIGTERM');
    const timer = setTimeout(() => kill('SIGKILL'), this.options.stopGraceMs ?? 5_000);
    await gone;
    clearTimeout(timer);
  }
}
