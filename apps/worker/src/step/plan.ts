import { WorkerExitCode } from '@docflow/contracts';
import type { ObjectStorage } from '@docflow/storage';
import { loadManifest } from './manifest';
import { classify } from './run-step.usecase';
import { StepError } from './step-error';

export interface PlanResult {
  exitCode: number;
  /** The chunk indexes to fan out over, in order (the `transform` step's `withParam`), when planning worked. */
  chunks?: number[];
  error?: string;
}

/**
 * The workflow's `plan` step: reads the job manifest from the bucket and lists its chunks, so that the fan-out
 * comes from the manifest itself. A missing or invalid manifest is permanent (65: not retried); storage trouble
 * is retryable (75).
 */
export async function planChunks(
  storage: Pick<ObjectStorage, 'bucket' | 'getBytes'>,
  jobId: string,
  manifestUri: string,
): Promise<PlanResult> {
  try {
    const manifest = await loadManifest(storage, jobId, manifestUri);
    const chunks = manifest.chunks.map((chunk) => chunk.index);
    if (new Set(chunks).size !== chunks.length) {
      throw StepError.permanent('the manifest lists a chunk index twice');
    }
    return { exitCode: WorkerExitCode.OK, chunks };
  } catch (error) {
    const { kind, message } = classify(error);
    return {
      exitCode: kind === 'permanent' ? WorkerExitCode.PERMANENT : WorkerExitCode.RETRYABLE,
      error: message,
    };
  }
}
