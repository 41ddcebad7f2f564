import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
// s3rver ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

interface S3rverInstance extends EventEmitter {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}

interface S3rverRecord {
  eventName: string;
  eventTime: string;
  s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer?: string } };
}

export interface WebhookTarget {
  /** The private API's storage webhook, e.g. `http://127.0.0.1:8081/api/private/webhooks/docs/status`. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`, like MinIO's webhook `auth_token`. */
  token: string;
}

export interface LocalS3ServerOptions {
  address?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Where objects are kept. */
  directory: string;
  bucket: string;
  webhook?: WebhookTarget;
  /** How many times a notification is retried before it is dropped (MinIO keeps a queue; so do we, in memory). */
  maxDeliveryAttempts?: number;
  onDeliveryFailure?: (error: Error, body: unknown) => void;
}

/** A bucket CORS rule so that a browser can PUT and GET with presigned URLs. */
const CORS = `<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>`;

/** MinIO URL-encodes keys in notifications (Go's url.QueryEscape: spaces as `+`). */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+');
}

/** Turns one s3rver event into the body MinIO's webhook target would POST. */
export function toMinioNotification(record: S3rverRecord): Record<string, unknown> {
  const eventName = `s3:${record.eventName}`;
  const object = record.s3.object;
  return {
    EventName: eventName,
    Key: `${record.s3.bucket.name}/${object.key}`,
    Records: [
      {
        eventVersion: '2.0',
        eventSource: 'minio:s3',
        awsRegion: '',
        eventTime: record.eventTime,
        eventName,
        userIdentity: { principalId: 'docflow-local' },
        requestParameters: { region: '' },
        responseElements: {},
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'Config',
          bucket: {
            name: record.s3.bucket.name,
            ownerIdentity: { principalId: 'docflow-local' },
            arn: `arn:aws:s3:::${record.s3.bucket.name}`,
          },
          object: {
            key: encodeEventKey(object.key),
            ...(object.size !== undefined ? { size: object.size } : {}),
            ...(object.eTag ? { eTag: object.eTag } : {}),
            ...(object.sequencer ? { sequencer: object.sequencer } : {}),
          },
        },
        source: { host: '127.0.0.1', port: '', userAgent: 'docflow-local-s3' },
      },
    ],
  };
}

/**
 * The local object store: an S3 API server (s3rver) whose put and delete events reach the private
 * webhook exactly as MinIO's webhook target would send them: same body, bearer token, delivered in
 * order and retried with backoff while the webhook does not answer 2xx.
 */
export class LocalS3Server {
  private server?: S3rverInstance;
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;
  /** How many notifications were delivered. */
  delivered = 0;
  private port = 0;

  constructor(private readonly options: LocalS3ServerOptions) {}

  get endpoint(): string {
    return `http://${this.options.address ?? '127.0.0.1'}:${this.port}`;
  }

  async start(): Promise<string> {
    const server = new S3rver({
      address: this.options.address ?? '127.0.0.1',
      port: this.options.port ?? 0,
      directory: this.options.directory,
      silent: true,
      configureBuckets: [{ name: this.options.bucket, configs: [CORS] }],
    });
    server.on('event', (event: { Records: S3rverRecord[] }) => {
      for (const record of event.Records) this.enqueue(toMinioNotification(record));
    });
    const address = await server.run();
    this.server = server;
    this.port = address.port;
    return this.endpoint;
  }

  /** Resolves when every notification so far has been delivered (or given up on). */
  async idle(): Promise<void> {
    while (this.pending > 0) await this.queue;
  }

  private enqueue(body: Record<string, unknown>): void {
    const target = this.options.webhook;
    if (!target) return;
    this.pending++;
    this.queue = this.queue
      .then(() => this.deliver(target, body))
      .catch((error: Error) => this.options.onDeliveryFailure?.(error, body))
      .finally(() => {
        this.pending--;
      });
  }

  private async deliver(target: WebhookTarget, body: Record<string, unknown>): Promise<void> {
    const attempts = this.options.maxDeliveryAttempts ?? 8;
    let lastError: Error = new Error('not attempted');
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const response = await fetch(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${target.token}` },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(5_000),
        });
        if (response.ok) {
          await response.arrayBuffer();
          this.delivered++;
          return;
        }
        lastError = new Error(
          `webhook answered ${response.status}: ${(await response.text()).slice(0, 300)}`,
        );
        // A 4xx other than 408/429 will not get better by retrying.
        if (
          response.status >= 400 &&
          response.status < 500 &&
          response.status !== 408 &&
          response.status !== 429
        )
          break;
      } catch (error) {
        lastError = error as Error;
      }
      if (attempt < attempts)
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** (attempt - 1), 5_000)));
    }
    throw lastError;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.httpServer?.closeAllConnections?.();
    await server.close();
  }
}
