import { parseArgs } from 'node:util';

export type WorkerArgs =
  | { command: 'run'; jobId: string; manifest: string; chunk: number }
  | { command: 'plan'; jobId: string; manifest: string }
  | { command: 'report'; jobId: string; status: string };

export const USAGE =
  'usage: docflow-worker run --job <job_id> --manifest s3://<bucket>/<key> --chunk <n>\n' +
  '       docflow-worker plan --job <job_id> --manifest s3://<bucket>/<key>   (prints the chunk indexes as JSON)\n' +
  '       docflow-worker report --job <job_id> --status <Succeeded|Failed|Error>   (the workflow exit handler)\n' +
  '       (or DOCFLOW_JOB_ID, DOCFLOW_MANIFEST, DOCFLOW_CHUNK in the environment)';

/** Arguments first, the environment as a fallback: the container and the local engine pass the same. */
export function parseWorkerArgs(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
): WorkerArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      job: { type: 'string' },
      manifest: { type: 'string' },
      chunk: { type: 'string' },
      status: { type: 'string' },
    },
  });
  const command = positionals[0] ?? 'run';
  if (!['run', 'plan', 'report'].includes(command) || positionals.length > 1)
    throw new Error(`unknown command ${positionals.join(' ')}`);
  const jobId = values.job ?? env.DOCFLOW_JOB_ID;
  if (!jobId) throw new Error('--job is required');
  if (command === 'report') {
    if (!values.status || !/^[A-Za-z]{1,32}$/.test(values.status))
      throw new Error('--status is required (the workflow status)');
    return { command, jobId, status: values.status };
  }
  const manifest = values.manifest ?? env.DOCFLOW_MANIFEST;
  if (command === 'plan') {
    if (!manifest) throw new Error('--manifest is required');
    if (values.chunk !== undefined) throw new Error('plan takes no --chunk: it lists every chunk');
    return { command, jobId, manifest };
  }
  const chunkText = values.chunk ?? env.DOCFLOW_CHUNK ?? '0';
  if (!manifest) throw new Error('--manifest is required');
  if (!/^\d{1,6}$/.test(chunkText))
    throw new Error(`--chunk must be a non-negative integer, got ${chunkText}`);
  return { command: 'run', jobId, manifest, chunk: Number(chunkText) };
}
