import { timingSafeEqual, createHash } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DomainError, ErrorCode } from '@docflow/contracts';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Checks `Authorization: Bearer <STORAGE_WEBHOOK_TOKEN>` (MinIO's webhook `auth_token`) in constant time. */
@Injectable()
export class WebhookTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.expected = digest(config.STORAGE_WEBHOOK_TOKEN);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match || !timingSafeEqual(digest(match[1]!), this.expected)) {
      throw new DomainError(ErrorCode.UNAUTHENTICATED, 'A valid webhook bearer token is required');
    }
    return true;
  }
}
