import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  IdentitySubjects,
  type AuditEventPage,
  type ListAuditRequest,
  type ListTeamAuditRequest,
} from '@docflow/contracts';
import { AuditLog } from './audit-log';

@Controller()
export class AuditController {
  constructor(private readonly audit: AuditLog) {}

  @MessagePattern(IdentitySubjects.auditList)
  list(@Payload() request: ListAuditRequest): Promise<AuditEventPage> {
    return this.audit.list(request);
  }

  /** The gateway asks once `team.audit.read` allowed the caller (the team's owners). */
  @MessagePattern(IdentitySubjects.auditTeamList)
  listForTeam(@Payload() request: ListTeamAuditRequest): Promise<AuditEventPage> {
    return this.audit.listForTeam(request);
  }
}
