import {
  WorkerExitCode,
  type FailureKind,
  type JobEvent,
  type JobEventType,
  type JobManifest,
  type JobStage,
  type ManifestChunk,
} from '@docflow/contracts';
import type { Logger } from '@docflow/observability';
import { ObjectTooLargeError, type ObjectStorage } from '@docflow/storage';
import type { CallbackClient } from '../callbacks/callback-client';
import { CallbackQueue } from '../callbacks/callback-queue';
import { detectFormat, extractText, type DocumentFormat } from '../extract/extract-text';
import { textChunks } from '../extract/text-chunks';
import { mapWithConcurrency } from './concurrency';
import { IN_MEMORY_TEXT_LIMIT, PIECE_CHARS, transformLongText } from './long-text';
import { MANIFEST_MAX_BYTES, loadManifest } from './manifest';
import { StepError } from './step-error';
import type { Transformer } from './transformer';

export interface RunStepInput {
  jobId: string;
  manifestUri: string;
  chunk: number;
}

export interface RunStepDependencies {
  storage: Pick<ObjectStorage, 'bucket' | 'getBytes' | 'getStream' | 'put' | 'head'>;
  callbacks: Pick<CallbackClient, 'send'>;
  /** Builds the transformer for this job's crew, parameters and model. */
  transformerFor: (manifest: JobManifest) => Transformer | Promise<Transformer>;
  logger: Logger;
  signal?: AbortSignal;
  clock?: () => Date;
}

export interface RunStepResult {
  exitCode: number;
  completed: string[];
  failed: { inputId: string; kind: FailureKind; message: string }[];
  skipped: string[];
}

/** Classifies anything thrown while handling an input. */
export function classify(error: unknown): { kind: FailureKind | 'cancelled'; message: string } {
  const e = error as {
    kind?: string;
    message?: string;
    name?: string;
    $metadata?: { httpStatusCode?: number };
    code?: string;
  };
  if (e?.name === 'AbortError' || e?.kind === 'cancelled') return { kind: 'cancelled', message: 'cancelled' };
  if (e?.kind === 'permanent' || e?.kind === 'retryable')
    return { kind: e.kind, message: e.message ?? 'failed' };
  if (error instanceof ObjectTooLargeError) return { kind: 'permanent', message: error.message };
  // Storage and network hiccups, and anything unforeseen: a rerun continues where this one stopped.
  return { kind: 'retryable', message: e?.message || e?.name || 'unexpected failure' };
}

/**
 * One workflow step: the documents of one chunk of a job, extract → transform → load per input.
 *
 * Idempotent: an input whose sidecar exists was finished by an earlier run and is skipped; the Markdown is
 * written before the sidecar, so a crash between the two redoes the input and overwrites the same keys.
 * Event ids are stable, so events repeated by a rerun are dropped by the receiver.
 *
 * Events are queued (CallbackQueue), not awaited one by one: an input's events are delivered in order while its
 * work and the other inputs' go on; an input waits for its own events once, before its transform starts; and
 * `execute` returns only after every event was delivered or given up on.
 * An event is queued only after what it reports happened (doc_completed after the sidecar is written).
 */
export class RunStepUseCase {
  constructor(private readonly deps: RunStepDependencies) {}

  async execute(input: RunStepInput): Promise<RunStepResult> {
    // The inputs' events are delivered beside the work instead of each being awaited; every one of them was
    // delivered or given up on before the result (and so the exit code) is returned.
    const callbacks = new CallbackQueue({
      send: (event) => this.deps.callbacks.send(event),
      logger: this.deps.logger,
    });
    try {
      return await this.run(input, callbacks);
    } finally {
      const started = Date.now();
      const pending = callbacks.pending;
      const stats = await callbacks.flush();
      this.deps.logger.info({
        msg: 'callbacks flushed',
        jobId: input.jobId,
        chunk: input.chunk,
        pendingAtEnd: pending,
        waitedMs: Date.now() - started,
        ...stats,
      });
    }
  }

  private async run(input: RunStepInput, callbacks: CallbackQueue): Promise<RunStepResult> {
    const result: RunStepResult = { exitCode: WorkerExitCode.OK, completed: [], failed: [], skipped: [] };
    let manifest: JobManifest;
    let chunk: ManifestChunk;
    let transformer: Transformer;
    try {
      ({ manifest, chunk } = await this.load(input));
      transformer = await this.deps.transformerFor(manifest);
    } catch (error) {
      const { kind, message } = classify(error);
      this.deps.logger.error({
        msg: 'step cannot start',
        jobId: input.jobId,
        chunk: input.chunk,
        error: message,
        kind,
      });
      result.failed.push({ inputId: '*', kind: kind === 'cancelled' ? 'retryable' : kind, message });
      result.exitCode = kind === 'permanent' ? WorkerExitCode.PERMANENT : WorkerExitCode.RETRYABLE;
      return result;
    }

    // Inputs run side by side, as many as the job may have model calls in flight; the model factory bounds
    // the calls themselves across inputs.
    const outcomes = await mapWithConcurrency(chunk.inputs, manifest.limits.modelConcurrency, (item) =>
      this.deps.signal?.aborted
        ? Promise.resolve('cancelled' as const)
        : this.runInput(manifest, chunk.index, item.inputId, item.docIds, transformer, callbacks),
    );
    chunk.inputs.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome === 'completed') result.completed.push(item.inputId);
      else if (outcome === 'skipped') result.skipped.push(item.inputId);
      else if (outcome !== 'cancelled') result.failed.push({ inputId: item.inputId, ...outcome });
    });
    if (result.failed.some((f) => f.kind === 'retryable')) result.exitCode = WorkerExitCode.RETRYABLE;
    else if (result.failed.length > 0) result.exitCode = WorkerExitCode.PERMANENT;
    return result;
  }

  private async load(input: RunStepInput): Promise<{ manifest: JobManifest; chunk: ManifestChunk }> {
    const manifest = await loadManifest(this.deps.storage, input.jobId, input.manifestUri);
    const chunk = manifest.chunks.find((c) => c.index === input.chunk);
    if (!chunk) throw StepError.permanent(`the manifest has no chunk ${input.chunk}`);
    return { manifest, chunk };
  }

  /**
   * A single text or Markdown document over IN_MEMORY_TEXT_LIMIT is streamed in pieces rather than read
   * whole; only a map-reduce crew can run it that way. `undefined` for everything else.
   */
  private async openLongText(manifest: JobManifest, docIds: string[], transformer: Transformer) {
    if (docIds.length !== 1) return undefined;
    const doc = manifest.documents.find((d) => d.docId === docIds[0])!;
    const format = detectFormat(doc.name, doc.contentType);
    if (doc.size <= IN_MEMORY_TEXT_LIMIT || (format !== 'text' && format !== 'markdown')) return undefined;
    if (doc.size > manifest.limits.maxDocumentBytes) return undefined; // refused below with the size message
    if (!transformer.reducible) {
      throw StepError.permanent(
        `${doc.name} is ${doc.size} bytes; text over ${IN_MEMORY_TEXT_LIMIT} bytes can only be run by a map-reduce crew (such as summarize)`,
      );
    }
    const object = await this.deps.storage.getStream(doc.key);
    if (!object) throw StepError.permanent(`${doc.name} is no longer in storage`);
    return {
      source: { docId: doc.docId, name: doc.name, format, chars: doc.size },
      pieces: textChunks(object.body, doc.name, PIECE_CHARS),
      estimatedPieces: Math.ceil(doc.size / PIECE_CHARS),
    };
  }

  private async runInput(
    manifest: JobManifest,
    chunkIndex: number,
    inputId: string,
    docIds: string[],
    transformer: Transformer,
    callbacks: CallbackQueue,
  ): Promise<'completed' | 'skipped' | 'cancelled' | { kind: FailureKind; message: string }> {
    const markdownKey = `${manifest.outputPrefix}${inputId}.md`;
    const sidecarKey = `${manifest.outputPrefix}${inputId}.json`;
    const now = () => (this.deps.clock ?? (() => new Date()))().toISOString();
    // Queued in this input's lane (sent in order, not awaited here); see CallbackQueue.
    const emit = (type: JobEventType, extra: Partial<JobEvent> = {}, stage?: JobStage, suffix?: string) =>
      callbacks.push(inputId, {
        id: [manifest.jobId, chunkIndex, inputId, type, stage, suffix]
          .filter((p) => p !== undefined)
          .join(':'),
        jobId: manifest.jobId,
        type,
        at: now(),
        chunk: chunkIndex,
        inputId,
        docIds,
        ...(stage ? { stage } : {}),
        ...extra,
      });

    const finished = await this.deps.storage.head(sidecarKey);
    if (finished) {
      const sidecar = JSON.parse(
        (await this.deps.storage.getBytes(sidecarKey, MANIFEST_MAX_BYTES))!.toString('utf8'),
      );
      emit('doc_completed', {
        output: { markdownKey, sidecarKey, bytes: sidecar.outputBytes },
        usage: sidecar.usage,
      });
      this.deps.logger.info({ msg: 'input already done by an earlier run', jobId: manifest.jobId, inputId });
      return 'skipped';
    }

    const started = Date.now();
    let stage: JobStage = 'extract';
    try {
      // extract
      emit('stage_started', {}, 'extract');
      const extractStarted = Date.now();
      const sources: { docId: string; name: string; format: DocumentFormat; chars: number }[] = [];
      const texts: string[] = [];
      const long = await this.openLongText(manifest, docIds, transformer);
      if (long) sources.push(long.source);
      for (const docId of long ? [] : docIds) {
        const doc = manifest.documents.find((d) => d.docId === docId)!;
        if (doc.size > manifest.limits.maxDocumentBytes) {
          throw StepError.permanent(
            `${doc.name} is ${doc.size} bytes, over the limit of ${manifest.limits.maxDocumentBytes}`,
          );
        }
        const bytes = await this.deps.storage.getBytes(doc.key, manifest.limits.maxDocumentBytes);
        if (!bytes) throw StepError.permanent(`${doc.name} is no longer in storage`);
        const { format, text } = await extractText(bytes, doc.name, doc.contentType);
        sources.push({ docId, name: doc.name, format, chars: text.length });
        texts.push(docIds.length > 1 ? `## ${doc.name}\n\n${text}` : text);
      }
      const extractMs = Date.now() - extractStarted;
      emit('stage_completed', {}, 'extract');

      // transform
      stage = 'transform';
      emit('stage_started', {}, 'transform');
      // The one wait on callbacks: a transform can hold the step's thread for seconds (the offline model runs in
      // it), and nothing queued would be sent meanwhile. So the receiver knows `transform` has started (and a
      // cancel can land in it) before it does; everything after is sent beside the work.
      await callbacks.idle(inputId);
      const transformStarted = Date.now();
      let lastReported = -1;
      const signal = this.deps.signal ?? new AbortController().signal;
      const name = docIds.length > 1 ? `${docIds.length} documents` : sources[0]!.name;
      const progress = (completed: number, total: number) => {
        const progress = total > 0 ? Math.floor((completed / total) * 100) : 0;
        // At most one event per 10 %, so a long map-reduce does not flood the callback API.
        if (progress >= lastReported + 10 || (progress === 100 && lastReported !== 100)) {
          lastReported = progress;
          emit('stage_progress', { progress }, 'transform', String(progress));
        }
      };
      const out = long
        ? await transformLongText(long.pieces, long.estimatedPieces, name, transformer, progress, signal)
        : await transformer.transform({ name, text: texts.join('\n\n') }, progress, signal);
      const transformMs = Date.now() - transformStarted;
      emit('stage_completed', {}, 'transform');

      // load
      stage = 'load';
      emit('stage_started', {}, 'load');
      const loadStarted = Date.now();
      const markdown = out.output.endsWith('\n') ? out.output : `${out.output}\n`;
      await this.deps.storage.put(markdownKey, markdown, 'text/markdown; charset=utf-8');
      const sidecar = {
        jobId: manifest.jobId,
        inputId,
        docIds,
        sources,
        crew: typeof manifest.crew === 'string' ? manifest.crew : 'inline',
        params: manifest.params,
        agentsRun: out.agentsRun,
        models: out.models,
        usage: out.usage,
        modelCalls: out.calls,
        costEstimateUsd: out.costEstimateUsd,
        ...(out.costNote ? { costNote: out.costNote } : {}),
        ...(out.json !== undefined ? { json: out.json } : {}),
        outputKey: markdownKey,
        outputBytes: Buffer.byteLength(markdown),
        durationsMs: {
          extract: extractMs,
          transform: transformMs,
          load: Date.now() - loadStarted,
          total: Date.now() - started,
        },
        createdAt: now(),
      };
      // Written last: its presence means the input is done.
      await this.deps.storage.put(sidecarKey, `${JSON.stringify(sidecar, null, 2)}\n`, 'application/json');
      emit('stage_completed', {}, 'load');
      emit('doc_completed', {
        output: { markdownKey, sidecarKey, bytes: sidecar.outputBytes },
        usage: out.usage,
      });
      return 'completed';
    } catch (error) {
      const { kind, message } = classify(error);
      if (kind === 'cancelled') return 'cancelled';
      this.deps.logger.warn({
        msg: 'input failed',
        jobId: manifest.jobId,
        inputId,
        stage,
        kind,
        error: message,
      });
      emit('doc_failed', { stage, error: { kind, message } });
      return { kind, message };
    }
  }
}
