import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DomainError, ErrorCode, type AuthPrincipal } from '@docflow/contracts';

/** The request as the guards leave it. */
export type AuthenticatedRequest = FastifyRequest & { principal?: AuthPrincipal & { sessionId?: string } };

/** The authenticated caller; on a guarded route it is always a user or a token with a user id. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthPrincipal & { userId: string; sessionId?: string } => {
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (!principal?.userId) throw new DomainError(ErrorCode.UNAUTHENTICATED, 'Authentication required');
    return principal as AuthPrincipal & { userId: string; sessionId?: string };
  },
);

/** Client address and agent, for identity's rate limits and audit log. */
export const ClientInfoParam = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  const agent = request.headers['user-agent'];
  return { ip: request.ip, ...(typeof agent === 'string' ? { userAgent: agent.slice(0, 256) } : {}) };
});
