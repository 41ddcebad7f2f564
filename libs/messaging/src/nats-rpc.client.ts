import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { connect, headers, ErrorCode as NatsErrorCode, type NatsConnection, type NatsError } from 'nats';
import { DomainError, ErrorCode, REQUEST_ID_HEADER, isRpcErrorPayload } from '@docflow/contracts';
import { currentRequestId } from '@docflow/observability';
import { ServiceClient, type SendOptions } from './service-client';

interface NestReply {
  id?: string;
  response?: unknown;
  err?: unknown;
  isDisposed?: boolean;
}

function serviceOf(subject: string): string {
  return subject.split('.')[0] ?? subject;
}

/**
 * Request/reply to NestJS microservices over NATS, speaking Nest's packet format
 * (`{pattern, data, id}` in, `{id, response | err, isDisposed}` out).
 *
 * Written on the `nats` client rather than Nest's ClientNats because the gateway must answer 503 at
 * once when NATS is down (ClientNats buffers requests while it reconnects) and must tell "no service is
 * subscribed" (NATS no-responders) from a slow service; `nc.request` also shares one reply
 * subscription for all requests instead of one per request.
 */
export interface NatsRpcClientOptions {
  servers: string;
  name: string;
  defaultTimeoutMs: number;
}

export class NatsRpcClient extends ServiceClient {
  private readonly logger = new Logger(NatsRpcClient.name);
  private connection?: NatsConnection;
  private connected = false;
  private closing = false;
  private retryTimer?: NodeJS.Timeout;
  /** Rejects every request in flight: called when the connection drops, so none waits out its timeout. */
  private readonly inFlight = new Set<(error: DomainError) => void>();
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();

  constructor(private readonly options: NatsRpcClientOptions) {
    super();
  }

  /** Starts connecting without blocking boot: until NATS answers, requests get 503. */
  start(): void {
    void this.connectForever();
  }

  /**
   * Tries until the first connection succeeds (or `close()` is called); from then on the nats client
   * reconnects by itself. Not `waitOnFirstConnect`: that cannot be cancelled.
   */
  private async connectForever(): Promise<void> {
    let attempt = 0;
    while (!this.closing) {
      try {
        const nc = await connect({
          servers: this.options.servers.split(','),
          name: this.options.name,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          // A server that hangs without closing the socket is noticed after ~2 missed pings (4-6 s).
          pingInterval: 2_000,
          maxPingOut: 2,
          // nats.js otherwise builds an Error per request only to keep a stack trace.
          noAsyncTraces: true,
        });
        if (this.closing) {
          await nc.close();
          return;
        }
        this.connection = nc;
        this.connected = true;
        this.logger.log({ msg: 'connected to NATS', server: nc.getServer() });
        void this.watchStatus(nc);
        return;
      } catch (error) {
        if (attempt++ % 20 === 0)
          this.logger.warn({ msg: 'NATS is not reachable yet; retrying', err: (error as Error).message });
        await new Promise((resolve) => {
          this.retryTimer = setTimeout(resolve, 250);
        });
      }
    }
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        this.logger.warn({ msg: 'disconnected from NATS', inFlight: this.inFlight.size });
        const error = new DomainError(
          ErrorCode.SERVICE_UNAVAILABLE,
          'The message bus connection was lost; try again shortly',
        );
        for (const reject of this.inFlight) reject(error);
        this.inFlight.clear();
      } else if (status.type === 'reconnect') {
        this.connected = true;
        this.logger.log({ msg: 'reconnected to NATS' });
      }
    }
    this.connected = false;
  }

  /** The connection itself (for JetStream); undefined until the first connection. */
  get natsConnection(): NatsConnection | undefined {
    return this.connection;
  }

  isConnected(): boolean {
    return this.connected && !!this.connection && !this.connection.isClosed();
  }

  async send<T>(subject: string, payload: unknown, options: SendOptions = {}): Promise<T> {
    const nc = this.connection;
    const service = serviceOf(subject);
    if (!nc || !this.isConnected()) {
      throw new DomainError(
        ErrorCode.SERVICE_UNAVAILABLE,
        'The message bus is unavailable; try again shortly',
      );
    }
    const timeout = options.timeoutMs ?? this.options.defaultTimeoutMs;
    const h = headers();
    const requestId = currentRequestId();
    if (requestId) h.set(REQUEST_ID_HEADER, requestId);
    const packet = { pattern: subject, data: payload, id: randomUUID() };

    let data: Uint8Array;
    let abandon: (error: DomainError) => void = () => undefined;
    const lost = new Promise<never>((_, reject) => {
      abandon = reject;
    });
    this.inFlight.add(abandon);
    try {
      const request = nc.request(subject, this.encoder.encode(JSON.stringify(packet)), {
        timeout,
        headers: h,
      });
      request.catch(() => undefined);
      const msg = await Promise.race([request, lost]);
      data = msg.data;
    } catch (error) {
      if (error instanceof DomainError) throw error;
      const code = (error as NatsError).code;
      if (code === NatsErrorCode.NoResponders) {
        throw new DomainError(
          ErrorCode.SERVICE_UNAVAILABLE,
          `The ${service} service is unavailable; try again shortly`,
        );
      }
      if (code === NatsErrorCode.Timeout) {
        throw new DomainError(
          ErrorCode.SERVICE_UNAVAILABLE,
          `The ${service} service did not answer within ${timeout} ms`,
        );
      }
      throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, `The ${service} service could not be reached`);
    } finally {
      this.inFlight.delete(abandon);
    }

    const reply = JSON.parse(this.decoder.decode(data)) as NestReply;
    if (reply.err !== undefined && reply.err !== null) {
      if (isRpcErrorPayload(reply.err))
        throw new DomainError(reply.err.code, reply.err.message, reply.err.details);
      this.logger.error({ msg: 'malformed error from service', subject });
      throw new DomainError(ErrorCode.INTERNAL, 'Internal error');
    }
    return reply.response as T;
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.retryTimer);
    const nc = this.connection;
    this.connection = undefined;
    this.connected = false;
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
  }
}
