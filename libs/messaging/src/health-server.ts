import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthReport } from '@docflow/contracts';

export interface HealthServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** The service's own checks (database, storage, …): what its `<service>.health.check` subject answers. */
  check: () => Promise<HealthReport>;
  /** True while this process's NATS connection is up. */
  natsConnected: () => boolean;
  /** How long the checks may take before readiness answers 503. */
  timeoutMs?: number;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

type Body = {
  status: 'ok' | 'unavailable';
  checks?: Record<string, { status: 'ok' | 'fail'; detail?: string }>;
};

/**
 * The HTTP health endpoints of a NATS service, for Kubernetes probes and Docker's HEALTHCHECK. Its NATS
 * subject cannot serve them: a request on it reaches any replica of the queue group, not this process.
 *
 * - `GET /health/live`: 200 while the process answers (never depends on the database: no restart storms).
 * - `GET /health/ready`: 200 when this process's NATS connection is up and its own checks pass, 503 otherwise.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const ready = async (): Promise<{ code: number; body: Body }> => {
    const checks: NonNullable<Body['checks']> = {
      nats: options.natsConnected() ? { status: 'ok' } : { status: 'fail', detail: 'not connected' },
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      const report = await Promise.race([
        options.check(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`checks timed out after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      Object.assign(checks, report.checks);
    } catch (error) {
      checks.service = { status: 'fail', detail: (error as Error).message };
    } finally {
      clearTimeout(timer);
    }
    const ok = Object.values(checks).every((c) => c.status === 'ok');
    return { code: ok ? 200 : 503, body: { status: ok ? 'ok' : 'unavailable', checks } };
  };
  const send = (response: ServerResponse, code: number, body: unknown) => {
    response.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    response.end(JSON.stringify(body));
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return send(response, 405, { status: 'unavailable' });
    if (path === '/health/live') return send(response, 200, { status: 'ok' });
    if (path === '/health/ready') {
      void ready().then(({ code, body }) => send(response, code, body));
      return;
    }
    send(response, 404, { status: 'unavailable' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Never the reason the process stays up: the service's own connections are.
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Follows a Nest microservice's `status` (NATS transport: `connected`, `disconnected`, `reconnecting`). */
export function followConnection(status: {
  subscribe(next: (value: string) => void): unknown;
}): () => boolean {
  let connected = false;
  status.subscribe((value) => {
    connected = value === 'connected';
  });
  return () => connected;
}
