import { z } from 'zod';
import { JOB_MANIFEST_VERSION, JOB_STRATEGIES, jobOutputPrefix, type JobManifest } from '@docflow/contracts';
import type { ObjectStorage } from '@docflow/storage';
import { StepError } from './step-error';

const manifestSchema = z.object({
  version: z.literal(JOB_MANIFEST_VERSION),
  jobId: z.string().min(1).max(128),
  userId: z.string().min(1).max(128),
  teamId: z.string().min(1).max(128).optional(),
  crew: z.union([z.string().min(1).max(64), z.record(z.string(), z.unknown())]),
  params: z.record(z.string(), z.string()),
  strategy: z.enum(JOB_STRATEGIES),
  model: z.object({ provider: z.string().min(1), model: z.string().min(1) }),
  apiKeyId: z.string().min(1).max(64).optional(),
  documents: z
    .array(
      z.object({
        docId: z.string().min(1),
        name: z.string().min(1),
        contentType: z.string().min(1),
        size: z.number().int().nonnegative(),
        key: z.string().min(1),
        etag: z.string().optional(),
      }),
    )
    .min(1),
  chunks: z
    .array(
      z.object({
        index: z.number().int().nonnegative(),
        inputs: z
          .array(
            z.object({
              inputId: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/),
              docIds: z.array(z.string()).min(1),
            }),
          )
          .min(1),
      }),
    )
    .min(1),
  outputPrefix: z.string().endsWith('/'),
  limits: z.object({
    maxDocumentBytes: z.number().int().positive(),
    chunkTokens: z.number().int().positive(),
    modelConcurrency: z.number().int().positive().max(256),
  }),
});

/** Parses and checks a manifest; anything wrong with it is a permanent failure naming the field. */
export function parseManifest(bytes: Buffer, expectedJobId: string): JobManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw StepError.permanent('the job manifest is not valid JSON');
  }
  const result = manifestSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw StepError.permanent(`the job manifest is invalid: ${issues.join('; ')}`);
  }
  const manifest = result.data as JobManifest;
  if (manifest.jobId !== expectedJobId) {
    throw StepError.permanent(`the manifest is for job ${manifest.jobId}, not ${expectedJobId}`);
  }
  // A step writes only under its own job's outputs, whatever the manifest says.
  const ownPrefix = jobOutputPrefix({ userId: manifest.userId, teamId: manifest.teamId }, manifest.jobId);
  if (manifest.outputPrefix !== ownPrefix) throw StepError.permanent(`outputPrefix must be ${ownPrefix}`);
  const known = new Set(manifest.documents.map((d) => d.docId));
  for (const chunk of manifest.chunks) {
    for (const input of chunk.inputs) {
      const unknown = input.docIds.find((id) => !known.has(id));
      if (unknown)
        throw StepError.permanent(
          `chunk ${chunk.index} input ${input.inputId} names unknown document ${unknown}`,
        );
    }
  }
  return manifest;
}

/** `s3://bucket/key` → its parts. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw StepError.permanent(`--manifest must be s3://<bucket>/<key>, got ${uri}`);
  return { bucket: match[1]!, key: match[2]! };
}

/** The largest manifest a step reads (a job of 10,000 documents is about 3 MB). */
export const MANIFEST_MAX_BYTES = 16 * 1024 * 1024;

/** Reads and checks the job manifest at `manifestUri`, which must be in the step's own bucket. */
export async function loadManifest(
  storage: Pick<ObjectStorage, 'bucket' | 'getBytes'>,
  jobId: string,
  manifestUri: string,
): Promise<JobManifest> {
  const { bucket, key } = parseS3Uri(manifestUri);
  if (bucket !== storage.bucket) {
    throw StepError.permanent(
      `the manifest is in bucket ${bucket}, but this step is configured for ${storage.bucket}`,
    );
  }
  const bytes = await storage.getBytes(key, MANIFEST_MAX_BYTES);
  if (!bytes) throw StepError.permanent(`the job manifest ${manifestUri} does not exist`);
  return parseManifest(bytes, jobId);
}
