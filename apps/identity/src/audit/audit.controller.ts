import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { z } from 'zod';
import {
  AUDIT_EVENT_TYPES,
  DomainError,
  ErrorCode,
  IdentitySubjects,
  type AuditEventPage,
  type ListAuditRequest,
} from '@docflow/contracts';
import { AuditLog } from './audit-log';
import { AuditRepository } from './audit.repository';

/** What other services may record: checked here, since the caller is another service, not the gateway. */
const auditRecordSchema = z
  .object({
    userId: z.uuid(),
    type: z.enum(AUDIT_EVENT_TYPES),
    actorId: z.uuid().optional(),
    targetId: z.string().min(1).max(100).optional(),
    ip: z.string().max(64).optional(),
    userAgent: z.string().max(256).optional(),
    details: z.record(z.string().max(64), z.union([z.string().max(512), z.number(), z.boolean()])).optional(),
  })
  .strict()
  .refine((r) => !r.details || JSON.stringify(r.details).length <= 2048, {
    path: ['details'],
    message: 'at most 2 KB',
  });

@Controller()
export class AuditController {
  constructor(
    private readonly audit: AuditLog,
    private readonly repository: AuditRepository,
  ) {}

  @MessagePattern(IdentitySubjects.auditRecord)
  async record(@Payload() request: unknown): Promise<{ id: string }> {
    const parsed = auditRecordSchema.safeParse(request);
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => ({
        field: i.path.join('.') || '(root)',
        message: i.message,
      }));
      throw new DomainError(
        ErrorCode.VALIDATION_FAILED,
        details.map((d) => `${d.field}: ${d.message}`).join('; '),
        details,
      );
    }
    const entity = this.audit.entity(parsed.data);
    await this.repository.insert(entity);
    return { id: entity.id };
  }

  @MessagePattern(IdentitySubjects.auditList)
  list(@Payload() request: ListAuditRequest): Promise<AuditEventPage> {
    return this.audit.list(request);
  }
}
