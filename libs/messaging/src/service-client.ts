/** Options of one request to a service. */
export interface SendOptions {
  timeoutMs?: number;
}

/**
 * How the gateway reaches the services. The NATS implementation is the real one; the benchmark swaps in
 * an in-process one to measure what the NATS hop costs. Failures are thrown as `DomainError`.
 */
export abstract class ServiceClient {
  abstract send<T>(subject: string, payload: unknown, options?: SendOptions): Promise<T>;
  /** True while the transport is connected. */
  abstract isConnected(): boolean;
}
