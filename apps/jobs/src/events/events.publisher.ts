import { Injectable } from '@nestjs/common';
import { jobEventsSubject } from '@docflow/contracts';
import { NatsRpcClient, STREAMS, ensureStream } from '@docflow/messaging';
import type { NatsConnection } from 'nats';

/**
 * Publishes job events on JetStream (`jobs.events.<job_id>` in the stream JOB_EVENTS), so any gateway
 * replica can serve a job's event stream, replay it to a late subscriber and resume after Last-Event-ID.
 * Publishing uses the event's id as the JetStream message id: a repeated publish is dropped by the stream.
 */
@Injectable()
export class EventsPublisher {
  private ready?: Promise<void>;

  constructor(private readonly nats: NatsRpcClient) {}

  private connection(): NatsConnection {
    const nc = this.nats.natsConnection;
    if (!nc) throw new Error('NATS is not connected');
    return nc;
  }

  /** Creates the stream when it does not exist. */
  async ensureStream(): Promise<void> {
    this.ready ??= ensureStream(this.connection(), STREAMS.jobEvents).catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  /** Removes a job's events from the stream (a deleted user's job); a missing stream has none. */
  async purgeJob(jobId: string): Promise<number> {
    const jsm = await this.connection().jetstreamManager();
    try {
      const { purged } = await jsm.streams.purge(STREAMS.jobEvents.name, { filter: jobEventsSubject(jobId) });
      return purged;
    } catch (error) {
      if (/stream not found/i.test((error as Error).message)) return 0;
      throw error;
    }
  }

  /** Publishes one event; throws when JetStream did not acknowledge it. Returns its stream sequence. */
  async publish(event: Record<string, unknown>): Promise<number> {
    return this.publishJson({
      jobId: String(event.jobId),
      eventId: String(event.id),
      json: JSON.stringify(event),
    });
  }

  /**
   * Publishes one event already serialized (the outbox's stored payload) and returns its sequence in the stream
   * (a repeat JetStream dropped as a duplicate answers the sequence of the first publish).
   */
  async publishJson({
    jobId,
    eventId,
    json,
  }: {
    jobId: string;
    eventId: string;
    json: string;
  }): Promise<number> {
    await this.ensureStream();
    try {
      const ack = await this.connection()
        .jetstream()
        .publish(jobEventsSubject(jobId), json, { msgID: `${jobId}:${eventId}` });
      return ack.seq;
    } catch (error) {
      // The stream may be gone (deleted, a new NATS server): look for it again next time.
      this.ready = undefined;
      throw error;
    }
  }
}
