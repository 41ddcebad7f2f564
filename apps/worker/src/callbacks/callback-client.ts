import {
  CALLBACK_SIGNATURE_HEADER,
  CALLBACK_TIMESTAMP_HEADER,
  signCallback,
  type JobEvent,
  type ResolvedKey,
} from '@docflow/contracts';
import { StepError } from '../step/step-error';
import type { Logger } from '@docflow/observability';

export interface CallbackClientOptions {
  /** The private API base, e.g. `http://gateway-private:8081/api/private`. */
  baseUrl: string;
  /** The per-job HMAC secret (from the environment, never an argument). */
  secret: string;
  attempts?: number;
  timeoutMs?: number;
  logger?: Logger;
  /** Injected for tests. */
  fetch?: typeof fetch;
}

/**
 * Sends job events to `POST {baseUrl}/webhooks/jobs/{job_id}/events`, signed with HMAC-SHA256 over the
 * timestamp and the body (signed per attempt, so an event that waited in the step's CallbackQueue is still
 * within the receiver's window). The step sends an input's events in order, one after the other, and the
 * events of different inputs side by side, so the receiver orders across inputs by stage (it only moves
 * forward), not by arrival. Delivery is at least once: event ids are stable,
 * so the receiver drops duplicates. A callback that still fails after the retries is logged and dropped:
 * the jobs service also follows the workflow itself and reconciles what it missed.
 */
export class CallbackClient {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: CallbackClientOptions) {
    this.fetchImpl = options.fetch ?? fetch;
  }

  /**
   * The job's provider key, from the vault through the private API (signed like a callback). Held in memory by
   * the caller only. A refusal (not this job's key, the job has ended, a bad signature) is permanent; anything
   * else is retryable.
   */
  async providerKey(jobId: string, keyId: string): Promise<ResolvedKey> {
    const url = `${this.options.baseUrl.replace(/\/$/, '')}/jobs/${encodeURIComponent(jobId)}/provider-key`;
    const body = JSON.stringify({ keyId });
    const attempts = this.options.attempts ?? 5;
    let lastError = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const timestamp = Math.floor(Date.now() / 1000);
      try {
        const response = await this.fetchImpl(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [CALLBACK_TIMESTAMP_HEADER]: String(timestamp),
            [CALLBACK_SIGNATURE_HEADER]: signCallback(this.options.secret, timestamp, body),
          },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
        });
        if (response.ok) return (await response.json()) as ResolvedKey;
        const text = await response.text();
        lastError = `answered ${response.status}`;
        if ([401, 404, 409].includes(response.status)) {
          let message = text.slice(0, 300);
          try {
            message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
          } catch {
            // not JSON: keep the text
          }
          throw StepError.permanent(`the job's provider key was refused (${response.status}): ${message}`);
        }
      } catch (error) {
        if (error instanceof StepError) throw error;
        lastError = (error as Error).message;
      }
      if (attempt < attempts)
        await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** (attempt - 1), 3_000)));
    }
    throw StepError.retryable(`the job's provider key could not be fetched: ${lastError}`);
  }

  async send(event: JobEvent): Promise<boolean> {
    const url = `${this.options.baseUrl.replace(/\/$/, '')}/webhooks/jobs/${encodeURIComponent(event.jobId)}/events`;
    const body = JSON.stringify(event);
    const attempts = this.options.attempts ?? 5;
    let lastError = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const timestamp = Math.floor(Date.now() / 1000);
      try {
        const response = await this.fetchImpl(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [CALLBACK_TIMESTAMP_HEADER]: String(timestamp),
            [CALLBACK_SIGNATURE_HEADER]: signCallback(this.options.secret, timestamp, body),
          },
          body,
          // Generous: a long model run can hold the event loop for seconds before the answer is read.
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
        });
        await response.arrayBuffer();
        if (response.ok) return true;
        lastError = `answered ${response.status}`;
        if (
          response.status >= 400 &&
          response.status < 500 &&
          response.status !== 408 &&
          response.status !== 429
        )
          break;
      } catch (error) {
        lastError = (error as Error).message;
      }
      if (attempt < attempts)
        await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** (attempt - 1), 3_000)));
    }
    this.options.logger?.warn({
      msg: 'job callback not delivered',
      eventId: event.id,
      type: event.type,
      error: lastError,
    });
    return false;
  }
}
