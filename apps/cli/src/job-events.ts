import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { ApiClient } from './api-client';
import { ApiError, CliError, ExitCode, describeCause } from './errors';

/** One Server-Sent Event of `GET /users/{user_id}/jobs/{job_id}/events` (or `/teams/{team_id}/…`). */
export interface JobStreamEvent {
  /**
   * The event's id (its stream sequence, or `pg-<row>` from a finished job's stored history): what
   * `Last-Event-ID` resumes after.
   */
  id?: string;
  type: string;
  data: Record<string, unknown>;
}

/** The gateway's heartbeat on an event stream, unless its SSE_HEARTBEAT_MS says otherwise (at most 30 s). */
export const DEFAULT_HEARTBEAT_MS = 15_000;
/** Silence that counts as a dropped connection: three missed heartbeats. */
export const DEFAULT_IDLE_TIMEOUT_MS = 3 * DEFAULT_HEARTBEAT_MS;
const IDLE_TIMEOUT_RANGE_MS = [1_000, 3_600_000] as const;

/** `DOCFLOW_SSE_IDLE_MS` (whole milliseconds, 1000 to 3600000), else the default; anything else is exit 2. */
export function idleTimeoutFromEnv(env: NodeJS.ProcessEnv): number {
  const value = env.DOCFLOW_SSE_IDLE_MS?.trim();
  if (!value) return DEFAULT_IDLE_TIMEOUT_MS;
  const ms = /^\d+$/.test(value) ? Number(value) : NaN;
  const [min, max] = IDLE_TIMEOUT_RANGE_MS;
  if (!(ms >= min && ms <= max))
    throw new CliError(
      `DOCFLOW_SSE_IDLE_MS: expected whole milliseconds from ${min} to ${max}, got ${value}`,
      ExitCode.USAGE,
    );
  return ms;
}

export const TERMINAL_EVENTS = new Set(['job_completed', 'job_failed', 'job_cancelled']);

export interface FollowOptions {
  onEvent: (event: JobStreamEvent) => void;
  /** Told before each reconnection (for a line on stderr). */
  onReconnect?: (attempt: number, lastEventId: string | undefined, reason: string) => void;
  /** Reconnections in a row without an event in between before giving up. Default 10. */
  maxReconnects?: number;
  /**
   * No byte for this long counts as a dropped connection. Default `DEFAULT_IDLE_TIMEOUT_MS` (3 × the server's
   * default heartbeat of 15 s); the CLI takes `DOCFLOW_SSE_IDLE_MS`.
   */
  idleTimeoutMs?: number;
  /** Wait before reconnecting when the server gave no `retry:`. */
  retryMs?: number;
  signal?: AbortSignal;
}

/**
 * Reads a job's events until its final one. A connection that drops, stalls or ends early is opened again with
 * `Last-Event-ID`, so no event is missed or repeated; a 204 (the job had already ended, nothing after the last
 * event) ends it too. Returns the id of the last event seen.
 */
export async function followJobEvents(
  client: ApiClient,
  path: string,
  options: FollowOptions,
): Promise<{ lastEventId?: string; terminal?: JobStreamEvent }> {
  const maxReconnects = options.maxReconnects ?? 10;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  let retryMs = options.retryMs ?? 1_000;
  let lastEventId: string | undefined;
  let failures = 0;

  for (;;) {
    const controller = new AbortController();
    const abortFromCaller = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', abortFromCaller, { once: true });
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(new Error('no data (not even a heartbeat)')), idleTimeoutMs);
    };
    let terminal: JobStreamEvent | undefined;
    let sawEvent = false;
    let reason: string;
    try {
      armIdle();
      const response = await client.openStream(
        path,
        { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
        controller.signal,
      );
      if (response.status === 204) return { lastEventId };
      const parser = createParser({
        onEvent: (message: EventSourceMessage) => {
          if (message.id) lastEventId = message.id;
          if (!message.event) return;
          sawEvent = true;
          const event: JobStreamEvent = {
            id: message.id,
            type: message.event,
            data: parseData(message.data),
          };
          options.onEvent(event);
          if (TERMINAL_EVENTS.has(event.type)) terminal = event;
        },
        onRetry: (ms: number) => (retryMs = Math.min(Math.max(ms, 100), 30_000)),
      });
      const decoder = new TextDecoder();
      const reader = response.body!.getReader();
      try {
        while (!terminal) {
          const { value, done } = await reader.read();
          if (done) break;
          armIdle();
          parser.feed(decoder.decode(value, { stream: true }));
        }
      } finally {
        await reader.cancel().catch(() => undefined);
      }
      if (terminal) return { lastEventId, terminal };
      reason = 'the stream ended before the job did';
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (
        error instanceof CliError &&
        !(error instanceof ApiError && error.exitCode === ExitCode.UNAVAILABLE)
      )
        throw error;
      reason = describeCause(controller.signal.aborted ? controller.signal.reason : error);
    } finally {
      clearTimeout(idle);
      options.signal?.removeEventListener('abort', abortFromCaller);
    }
    failures = sawEvent ? 1 : failures + 1;
    if (failures > maxReconnects)
      throw new CliError(
        `lost the job's event stream (${reason}); gave up after ${maxReconnects} reconnections`,
        ExitCode.UNAVAILABLE,
      );
    options.onReconnect?.(failures, lastEventId, reason);
    await client.sleep(retryMs);
  }
}

function parseData(data: string): Record<string, unknown> {
  try {
    const value = JSON.parse(data) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : { value };
  } catch {
    return { value: data };
  }
}
