#!/usr/bin/env node
// docflow-worker run --job <job_id> --manifest s3://<bucket>/<key> --chunk <n>
// The workflow step: the container of the Argo template, and the process the local engine runs.
import { setMaxListeners } from 'node:events';
import { ConfigError, redactConfig } from '@docflow/config';
import { WorkerExitCode } from '@docflow/contracts';
import { createLogger, runWithRequestContext } from '@docflow/observability';
import { storageFromConfig } from '@docflow/storage';
import { USAGE, parseWorkerArgs, type WorkerArgs } from './args';
import { CallbackClient } from './callbacks/callback-client';
import { loadWorkerConfig, workerConfigSchema, type WorkerConfig } from './config';
import { CrewTransformer } from './step/crew-transformer';
import { planChunks } from './step/plan';
import { RunStepUseCase } from './step/run-step.usecase';

/** Exit code after SIGTERM (Argo's shutdown, the local engine's cancel): the step was stopped on purpose. */
const CANCELLED = 143;

async function main(): Promise<number> {
  let args: WorkerArgs;
  let config: WorkerConfig;
  try {
    args = parseWorkerArgs(process.argv.slice(2));
    config = loadWorkerConfig();
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : `${(error as Error).message}\n${USAGE}`);
    return WorkerExitCode.USAGE;
  }
  const logger = createLogger({ service: 'worker', level: config.LOG_LEVEL });
  if (args.command === 'report') {
    // The workflow's exit handler: tells the jobs service the workflow ended, so it settles the job at once.
    const callbacks = new CallbackClient({
      baseUrl: config.DOCFLOW_CALLBACK_URL,
      secret: config.DOCFLOW_CALLBACK_SECRET,
      logger,
    });
    const delivered = await callbacks.send({
      id: `${args.jobId}:workflow:${args.status}`,
      jobId: args.jobId,
      type: args.status === 'Succeeded' ? 'job_completed' : 'job_failed',
      at: new Date().toISOString(),
      message: `workflow ${args.status}`,
    });
    return delivered ? WorkerExitCode.OK : WorkerExitCode.RETRYABLE;
  }
  const storage = storageFromConfig(config, { presignCacheSize: 0 });
  if (args.command === 'plan') {
    // The workflow's `plan` step: its standard output is the list `transform` fans out over (Argo's
    // outputs.result), so nothing else may be written there; the failure goes to standard error.
    const plan = await planChunks(storage, args.jobId, args.manifest);
    storage.destroy();
    if (plan.chunks) process.stdout.write(JSON.stringify(plan.chunks));
    else console.error(`plan: ${plan.error}`);
    return plan.exitCode;
  }
  const abort = new AbortController();
  // Every model call of every concurrent input listens on this one signal (and removes its listener after).
  setMaxListeners(0, abort.signal);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.warn({ msg: 'stopping on signal', signal });
      abort.abort();
    });
  }
  if (config.DOCFLOW_STOP_WHEN_ORPHANED) {
    const orphaned = () => {
      if (abort.signal.aborted) return;
      // Our output pipes lead nowhere now: stop logging to them.
      logger.level = 'silent';
      abort.abort();
      // Whatever still runs gets a moment, as a pod gets its grace period.
      setTimeout(() => process.exit(CANCELLED), 5_000).unref();
    };
    process.stdin.on('end', orphaned).on('close', orphaned).on('error', orphaned).resume();
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  }
  const callbacks = new CallbackClient({
    baseUrl: config.DOCFLOW_CALLBACK_URL,
    secret: config.DOCFLOW_CALLBACK_SECRET,
    logger,
  });
  const useCase = new RunStepUseCase({
    storage,
    callbacks,
    // A job started with a stored key gets it from the vault (in memory only); otherwise the step's own
    // configured key, if any.
    transformerFor: async (manifest) =>
      new CrewTransformer(manifest, {
        apiKey: manifest.apiKeyId
          ? (await callbacks.providerKey(manifest.jobId, manifest.apiKeyId)).key
          : config.DOCFLOW_PROVIDER_API_KEY,
        baseURL: config.DOCFLOW_PROVIDER_BASE_URL,
        timeoutMs: config.DOCFLOW_MODEL_TIMEOUT_MS,
      }),
    logger,
    signal: abort.signal,
  });
  logger.info({
    msg: 'step starting',
    jobId: args.jobId,
    chunk: args.chunk,
    config: redactConfig(workerConfigSchema, config),
  });
  const started = Date.now();
  const result = await runWithRequestContext({ requestId: `job-${args.jobId}-${args.chunk}` }, () =>
    useCase.execute({ jobId: args.jobId, manifestUri: args.manifest, chunk: args.chunk }),
  );
  storage.destroy();
  const exitCode = abort.signal.aborted ? CANCELLED : result.exitCode;
  logger.info({
    msg: 'step finished',
    jobId: args.jobId,
    chunk: args.chunk,
    exitCode,
    completed: result.completed.length,
    skipped: result.skipped.length,
    failed: result.failed,
    ms: Date.now() - started,
  });
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(WorkerExitCode.RETRYABLE);
  },
);
