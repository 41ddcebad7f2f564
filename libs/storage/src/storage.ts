import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LRUCache } from 'lru-cache';

export interface StorageConfig {
  bucket: string;
  region: string;
  /** Endpoint the services use (inside a cluster: `http://minio:9000`). Empty for AWS S3. */
  endpoint?: string;
  /**
   * Endpoint that presigned URLs are signed for: what a client outside the cluster can reach
   * (`https://files.example.com`). Rewriting a URL's host after signing breaks the signature,
   * so presigning uses a client configured with this endpoint.
   */
  publicEndpoint?: string;
  /** Both, or neither for the AWS default credential chain (IAM role, environment, profile). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style URLs (`http://host/bucket/key`): needed by MinIO and the local S3 server. */
  forcePathStyle: boolean;
  /** How many presigned download URLs to keep for reuse (0 turns reuse off). Default 10,000. */
  presignCacheSize?: number;
}

export interface PresignPutInput {
  key: string;
  contentType: string;
  contentLength?: number;
  expiresInSeconds: number;
}

export interface PresignGetInput {
  key: string;
  expiresInSeconds: number;
  /** Sets `Content-Disposition: attachment; filename=...` on the download. */
  downloadName?: string;
  contentType?: string;
}

export interface ObjectHead {
  size: number;
  etag?: string;
  contentType?: string;
}

function clientConfig(config: StorageConfig, endpoint: string | undefined): S3ClientConfig {
  return {
    region: config.region,
    endpoint: endpoint || undefined,
    forcePathStyle: config.forcePathStyle,
    ...(config.accessKeyId && config.secretAccessKey
      ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }
      : {}),
    // Without these the SDK streams puts with aws-chunked framing, which the local S3 server stores verbatim.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  };
}

/** RFC 6266 `attachment` disposition with an ASCII fallback and a UTF-8 filename*. */
export function attachmentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  // RFC 5987 attr-char: encodeURIComponent leaves ' ( ) * unescaped, which are not allowed there.
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Object storage (S3, MinIO, or the local S3 server) behind one injectable class. */
export class ObjectStorage {
  readonly client: S3Client;
  private readonly presignClient: S3Client;
  /**
   * Presigned GETs are reused while at least half of their lifetime remains: signing costs about 0.2 ms of
   * CPU, the most expensive step of a document read, and a client still gets at least half the TTL.
   */
  private readonly downloads?: LRUCache<string, { url: string; expiresAt: Date }>;

  constructor(readonly config: StorageConfig) {
    this.client = new S3Client(clientConfig(config, config.endpoint));
    this.presignClient = new S3Client(clientConfig(config, config.publicEndpoint || config.endpoint));
    const size = config.presignCacheSize ?? 10_000;
    if (size > 0) this.downloads = new LRUCache({ max: size });
  }

  get bucket(): string {
    return this.config.bucket;
  }

  async presignPut(
    input: PresignPutInput,
  ): Promise<{ url: string; headers: Record<string, string>; expiresAt: Date }> {
    const command = new PutObjectCommand({
      Bucket: this.config.bucket,
      Key: input.key,
      ContentType: input.contentType,
      ContentLength: input.contentLength,
    });
    const signableHeaders = new Set(['content-type']);
    if (input.contentLength !== undefined) signableHeaders.add('content-length');
    const url = await getSignedUrl(this.presignClient, command, {
      expiresIn: input.expiresInSeconds,
      signableHeaders,
      // Keep the content type a signed header rather than a query parameter: the client must send it.
      unhoistableHeaders: new Set(['content-type']),
    });
    const headers: Record<string, string> = { 'Content-Type': input.contentType };
    if (input.contentLength !== undefined) headers['Content-Length'] = String(input.contentLength);
    return { url, headers, expiresAt: new Date(Date.now() + input.expiresInSeconds * 1000) };
  }

  /** A presigned GET; `version` (the object's etag) keeps a reused URL from outliving a replaced object. */
  async presignGet(input: PresignGetInput & { version?: string }): Promise<{ url: string; expiresAt: Date }> {
    const cacheKey = this.downloads
      ? JSON.stringify([
          input.key,
          input.version,
          input.expiresInSeconds,
          input.downloadName,
          input.contentType,
        ])
      : '';
    const cached = this.downloads?.get(cacheKey);
    if (cached && cached.expiresAt.getTime() - Date.now() >= (input.expiresInSeconds * 1000) / 2)
      return cached;
    const signed = await this.signGet(input);
    this.downloads?.set(cacheKey, signed);
    return signed;
  }

  private async signGet(input: PresignGetInput): Promise<{ url: string; expiresAt: Date }> {
    const command = new GetObjectCommand({
      Bucket: this.config.bucket,
      Key: input.key,
      ResponseContentDisposition: input.downloadName ? attachmentDisposition(input.downloadName) : undefined,
      ResponseContentType: input.contentType,
    });
    const url = await getSignedUrl(this.presignClient, command, { expiresIn: input.expiresInSeconds });
    return { url, expiresAt: new Date(Date.now() + input.expiresInSeconds * 1000) };
  }

  /** The object's size and etag, or `undefined` when it does not exist. */
  async head(key: string): Promise<ObjectHead | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: key }));
      return {
        size: out.ContentLength ?? 0,
        etag: out.ETag?.replace(/"/g, ''),
        contentType: out.ContentType,
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * Reads an object into memory, refusing (without reading further) once it passes `maxBytes`.
   * Returns `undefined` when the object does not exist.
   */
  async getBytes(key: string, maxBytes: number): Promise<Buffer | undefined> {
    let out;
    try {
      out = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: key }));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    if (out.ContentLength !== undefined && out.ContentLength > maxBytes) {
      (out.Body as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined)?.destroy?.();
      throw new ObjectTooLargeError(key, out.ContentLength, maxBytes);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of out.Body as AsyncIterable<Uint8Array>) {
      total += chunk.length;
      if (total > maxBytes) {
        (out.Body as { destroy?: () => void }).destroy?.();
        throw new ObjectTooLargeError(key, total, maxBytes);
      }
      chunks.push(Buffer.from(chunk));
    }
    return Buffer.concat(chunks, total);
  }

  /** Streams an object; `undefined` when it does not exist. */
  async getStream(key: string): Promise<{ size?: number; body: AsyncIterable<Uint8Array> } | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: key }));
      return { size: out.ContentLength, body: out.Body as AsyncIterable<Uint8Array> };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Writes an object (replacing any object at the key). */
  async put(key: string, body: Buffer | string, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.config.bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }

  /** Deletes one object; deleting a missing object succeeds. */
  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: key }));
  }

  /**
   * Deletes every object under `prefix` (but those `keep` names), a thousand per request. Returns how many were
   * deleted.
   */
  async deletePrefix(prefix: string, keep?: (key: string) => boolean): Promise<number> {
    if (!prefix || !prefix.endsWith('/'))
      throw new Error(`Refusing to delete by prefix "${prefix}": it must end with /`);
    let deleted = 0;
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      const keys = (page.Contents ?? []).map((o) => o.Key).filter((k): k is string => !!k && !keep?.(k));
      if (keys.length > 0) {
        const out = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.config.bucket,
            Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        if (out.Errors && out.Errors.length > 0) {
          throw new Error(
            `Could not delete ${out.Errors.length} object(s) under ${prefix}: ${out.Errors[0]?.Message}`,
          );
        }
        deleted += keys.length;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return deleted;
  }

  /** Succeeds when the bucket is reachable with our credentials. */
  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.config.bucket }));
  }

  destroy(): void {
    this.client.destroy();
    this.presignClient.destroy();
  }
}

export class ObjectTooLargeError extends Error {
  constructor(
    readonly key: string,
    readonly size: number,
    readonly maxBytes: number,
  ) {
    super(`object ${key} is larger than ${maxBytes} bytes`);
    this.name = 'ObjectTooLargeError';
  }
}

export function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}
