import type { NatsConnection } from 'nats';

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  description?: string;
}

/**
 * Polls `check` until it returns a value other than `undefined`/`false`, and returns that value.
 * Fails with `description` after `timeoutMs`.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${options.description ?? 'a condition'}${reason}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Waits until the durable JetStream consumer `consumer` of `stream` has acknowledged (or terminated) every message
 * up to sequence `seq`: nothing pending, nothing waiting for an ack. For tests of event consumers.
 */
export async function waitForConsumerAck(
  nc: NatsConnection,
  stream: string,
  consumer: string,
  seq: number,
): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await waitFor(
    async () => {
      const info = await jsm.consumers.info(stream, consumer);
      return info.ack_floor.stream_seq >= seq && info.num_pending === 0 && info.num_ack_pending === 0;
    },
    { timeoutMs: 20_000, description: `${consumer} to ack up to ${seq}` },
  );
}
