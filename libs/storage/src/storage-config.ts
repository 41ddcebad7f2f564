import { z } from 'zod';
import { bool, secret } from '@docflow/config';
import { ObjectStorage } from './storage';

/** The object-storage settings every service and the worker read from their environment. */
export const s3ConfigFields = {
  S3_BUCKET: z.string().min(3).default('docflow'),
  S3_REGION: z.string().default('us-east-1'),
  S3_ENDPOINT: z.url().optional(),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: secret(z.string()).optional(),
  S3_FORCE_PATH_STYLE: bool(true),
};

export interface S3Config {
  S3_BUCKET: string;
  S3_REGION: string;
  S3_ENDPOINT?: string;
  /** Only where URLs are presigned for clients outside the cluster. */
  S3_PUBLIC_ENDPOINT?: string;
  S3_ACCESS_KEY_ID?: string;
  S3_SECRET_ACCESS_KEY?: string;
  S3_FORCE_PATH_STYLE: boolean;
}

/** For `.superRefine`: both keys, or neither (the AWS default credential chain). */
export function checkS3Keys(config: S3Config, ctx: z.RefinementCtx): void {
  if (!!config.S3_ACCESS_KEY_ID !== !!config.S3_SECRET_ACCESS_KEY) {
    ctx.addIssue({
      code: 'custom',
      path: [config.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID'],
      message:
        'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are set together (or neither, for the default AWS chain)',
    });
  }
}

export function storageFromConfig(
  config: S3Config,
  options: { presignCacheSize?: number } = {},
): ObjectStorage {
  return new ObjectStorage({
    bucket: config.S3_BUCKET,
    region: config.S3_REGION,
    endpoint: config.S3_ENDPOINT,
    publicEndpoint: config.S3_PUBLIC_ENDPOINT,
    accessKeyId: config.S3_ACCESS_KEY_ID,
    secretAccessKey: config.S3_SECRET_ACCESS_KEY,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    ...options,
  });
}
