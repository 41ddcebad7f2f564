import { JOB_MANIFEST_VERSION, WorkerExitCode, type JobManifest } from '@docflow/contracts';
import { ObjectTooLargeError } from '@docflow/storage';
import { planChunks } from './plan';

const KEY = 'users/user-1/jobs/job-1/manifest.json';
const URI = `s3://docflow/${KEY}`;

function manifest(chunks: number[]): JobManifest {
  return {
    version: JOB_MANIFEST_VERSION,
    jobId: 'job-1',
    userId: 'user-1',
    crew: 'summarize',
    params: {},
    strategy: 'individual',
    model: { provider: 'offline', model: 'extractive' },
    documents: [
      { docId: 'd1', name: 'a.txt', contentType: 'text/plain', size: 1, key: 'users/user-1/docs/d1/a' },
    ],
    chunks: chunks.map((index) => ({ index, inputs: [{ inputId: `i${index}`, docIds: ['d1'] }] })),
    outputPrefix: 'users/user-1/jobs/job-1/outputs/',
    limits: { maxDocumentBytes: 1_000_000, chunkTokens: 3000, modelConcurrency: 4 },
  };
}

function storageWith(objects: Record<string, unknown>, failure?: Error) {
  return {
    bucket: 'docflow',
    async getBytes(key: string) {
      if (failure) throw failure;
      const value = objects[key];
      return value === undefined
        ? undefined
        : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
    },
  };
}

describe(planChunks.name, () => {
  it("lists the manifest's chunk indexes, in its order", async () => {
    const result = await planChunks(storageWith({ [KEY]: manifest([0, 1, 2, 3]) }), 'job-1', URI);
    expect(result).toEqual({ exitCode: WorkerExitCode.OK, chunks: [0, 1, 2, 3] });
  });

  it.each([
    ['a missing manifest', storageWith({}), URI, 'does not exist'],
    [
      'a manifest in another bucket',
      storageWith({ [KEY]: manifest([0]) }),
      `s3://other/${KEY}`,
      'bucket other',
    ],
    ['not an s3 URI', storageWith({ [KEY]: manifest([0]) }), 'https://x/y', '--manifest must be s3://'],
    ['a broken manifest', storageWith({ [KEY]: '{"version":' }), URI, 'manifest'],
    ["another job's manifest", storageWith({ [KEY]: { ...manifest([0]), jobId: 'job-2' } }), URI, 'job-2'],
    ['a chunk listed twice', storageWith({ [KEY]: manifest([0, 0]) }), URI, 'twice'],
    [
      'an oversized manifest',
      storageWith({}, new ObjectTooLargeError(KEY, 20_000_000, 16_777_216)),
      URI,
      String(KEY),
    ],
  ])('refuses %s for good (65, not retried)', async (_case, storage, uri, message) => {
    const result = await planChunks(storage, 'job-1', uri);
    expect(result.exitCode).toBe(WorkerExitCode.PERMANENT);
    expect(result.chunks).toBeUndefined();
    expect(result.error).toContain(message);
  });

  it('asks for a retry (75) when the storage fails', async () => {
    const result = await planChunks(storageWith({}, new Error('socket hang up')), 'job-1', URI);
    expect(result).toEqual({ exitCode: WorkerExitCode.RETRYABLE, error: 'socket hang up' });
  });
});
