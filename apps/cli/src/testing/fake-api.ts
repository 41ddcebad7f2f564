// A stand-in for the public API in the CLI's unit tests: routes by method and path, every request recorded.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  /** The query string, without `?` (empty when none). */
  query: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Route = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

export class FakeApi {
  readonly requests: RecordedRequest[] = [];
  private readonly routes = new Map<string, Route>();
  private server?: Server;
  url = '';

  /** `on('GET /api/v1/auth/me', …)`; a later route for the same key replaces the earlier one. */
  on(key: string, route: Route): this {
    this.routes.set(key, route);
    return this;
  }

  /** Answers JSON with `status`. */
  json(key: string, status: number, body: unknown): this {
    return this.on(key, (_request, response) => send(response, status, body));
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const url = new URL(request.url ?? '/', 'http://x');
        const path = url.pathname;
        const recorded = {
          method: request.method ?? 'GET',
          path,
          query: url.search.slice(1),
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        this.requests.push(recorded);
        const route = this.routes.get(`${recorded.method} ${path}`);
        if (!route)
          return send(response, 404, {
            error: { code: 'NOT_FOUND', message: `no route ${recorded.method} ${path}`, requestId: 'r-404' },
          });
        void Promise.resolve(route(recorded, response)).catch((error: unknown) => {
          response.destroy(error as Error);
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  find(method: string, path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path === path);
  }
}

export function send(response: ServerResponse, status: number, body: unknown): void {
  if (body === undefined) {
    response.writeHead(status).end();
    return;
  }
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export function apiError(code: string, message: string, details?: unknown) {
  return { error: { code, message, ...(details === undefined ? {} : { details }), requestId: 'req-1' } };
}
