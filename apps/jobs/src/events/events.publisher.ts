import { Injectable, Logger } from '@nestjs/common';
import { JOB_EVENTS_STREAM, jobEventsSubject, type JobStreamEvent } from '@docflow/contracts';
import { NatsRpcClient } from '@docflow/messaging';
import { RetentionPolicy, StorageType, type NatsConnection } from 'nats';

/**
 * Publishes job events on JetStream (`jobs.events.<job_id>` in the stream JOB_EVENTS), so any gateway
 * replica can serve a job's event stream, replay it to a late subscriber and resume after Last-Event-ID.
 * Publishing uses the event's id as the JetStream message id: a repeated publish is dropped by the stream.
 */
@Injectable()
export class EventsPublisher {
  private readonly logger = new Logger(EventsPublisher.name);
  private ready?: Promise<void>;

  constructor(private readonly nats: NatsRpcClient) {}

  private connection(): NatsConnection {
    const nc = this.nats.natsConnection;
    if (!nc) throw new Error('NATS is not connected');
    return nc;
  }

  /** Creates the stream when it does not exist (7 days of history, 2 minutes of duplicate detection). */
  async ensureStream(): Promise<void> {
    this.ready ??= (async () => {
      const jsm = await this.connection().jetstreamManager();
      try {
        await jsm.streams.info(JOB_EVENTS_STREAM);
      } catch {
        await jsm.streams.add({
          name: JOB_EVENTS_STREAM,
          subjects: ['jobs.events.>'],
          retention: RetentionPolicy.Limits,
          storage: StorageType.File,
          max_age: 7 * 24 * 3600 * 1_000_000_000,
          duplicate_window: 120 * 1_000_000_000,
        });
      }
    })().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  async publish(event: JobStreamEvent & { id: string }): Promise<void> {
    try {
      await this.ensureStream();
      await this.connection()
        .jetstream()
        .publish(jobEventsSubject(event.jobId), JSON.stringify(event), {
          msgID: `${event.jobId}:${event.id}`,
        });
    } catch (error) {
      // The event is stored in PostgreSQL already; the stream catches up from there on the next publish of the job.
      this.logger.warn({
        msg: 'could not publish a job event',
        jobId: event.jobId,
        eventId: event.id,
        error: (error as Error).message,
      });
    }
  }
}
