import { Injectable, Logger } from '@nestjs/common';
import { headers } from 'nats';
import { AuditSubjects, REQUEST_ID_HEADER, type AuditRecord } from '@docflow/contracts';
import { NatsRpcClient } from '@docflow/messaging';
import { currentRequestId } from '@docflow/observability';
import { Clock } from '../common/clock';

/**
 * Records key events in identity's audit log: a plain NATS publish of a NestJS event packet
 * (`{ pattern, data }`), fire-and-forget. A lost event is logged and never fails the operation it records.
 * No secret ever goes into a record: ids, names and providers only.
 */
@Injectable()
export class AuditPublisher {
  private readonly logger = new Logger(AuditPublisher.name);
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly nats: NatsRpcClient,
    private readonly clock: Clock,
  ) {}

  record(event: Omit<AuditRecord, 'at'>): void {
    const record: AuditRecord = { ...event, at: this.clock.now().toISOString() };
    const nc = this.nats.natsConnection;
    try {
      if (!nc || !this.nats.isConnected()) throw new Error('NATS is not connected');
      const h = headers();
      const requestId = currentRequestId();
      if (requestId) h.set(REQUEST_ID_HEADER, requestId);
      nc.publish(
        AuditSubjects.record,
        this.encoder.encode(JSON.stringify({ pattern: AuditSubjects.record, data: record })),
        { headers: h },
      );
    } catch (error) {
      this.logger.warn({
        msg: 'audit event not published',
        type: record.type,
        error: (error as Error).message,
      });
    }
  }
}
