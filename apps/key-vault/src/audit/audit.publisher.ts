import { Injectable, Logger } from '@nestjs/common';
import { AuditSubjects, type AuditRecordRequest } from '@docflow/contracts';
import { NatsRpcClient } from '@docflow/messaging';

/** How long identity may take to record an event before the vault gives up on it (it never waits for it). */
const RECORD_TIMEOUT_MS = 5_000;

/**
 * Records key events in identity's audit log (`identity.audit.record`, request/reply with the request id in the
 * headers), in the background: the operation it records never waits for it and never fails because of it. An event
 * identity refuses or does not answer is logged with its type and code. No secret ever goes into a record: ids,
 * names and providers only.
 */
@Injectable()
export class AuditPublisher {
  private readonly logger = new Logger(AuditPublisher.name);

  constructor(private readonly nats: NatsRpcClient) {}

  record(event: AuditRecordRequest): void {
    this.nats
      .send<{ id: string }>(AuditSubjects.record, event, { timeoutMs: RECORD_TIMEOUT_MS })
      .catch((error: unknown) => {
        this.logger.warn({
          msg: 'audit event not recorded',
          type: event.type,
          code: (error as { code?: string }).code,
          error: (error as Error).message,
        });
      });
  }
}
