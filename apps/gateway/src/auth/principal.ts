import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DomainError, ErrorCode, type AuthPrincipal } from '@docflow/contracts';

/** The request as the guards leave it (`request.principal`, see {@link AuthenticationGuard}). */
export type AuthenticatedRequest = FastifyRequest & { principal?: AuthPrincipal & { sessionId?: string } };

/** The authenticated caller; on a guarded route it is always a user or a token with a user id. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthPrincipal & { userId: string; sessionId?: string } => {
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (!principal?.userId) throw new DomainError(ErrorCode.UNAUTHENTICATED, 'Authentication required');
    return principal as AuthPrincipal & { userId: string; sessionId?: string };
  },
);

/** The calling user's id, in lower case; 401 for a caller who is not a user (anonymous). */
export function requireUserId(principal: AuthPrincipal): string {
  if (!principal.userId) throw new DomainError(ErrorCode.UNAUTHENTICATED, 'Authentication required');
  return principal.userId.toLowerCase();
}

/**
 * For `/users/{user_id}/...` routes: the caller must be that user (or a platform admin). Another user's id
 * answers 404 exactly as an unknown one, so ids cannot be probed. The authentication guard already makes this
 * check for every such route; a controller repeats it where it reads the id, so the rule holds wherever the
 * controller is mounted.
 */
export function requireSelfOrAdmin(principal: AuthPrincipal, userId: string, what = 'user'): string {
  const caller = requireUserId(principal);
  if (caller !== userId.toLowerCase() && !principal.isAdmin) throw DomainError.notFound(what);
  return userId;
}

/** Client address and agent, for identity's rate limits and audit log. */
export const ClientInfoParam = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  const agent = request.headers['user-agent'];
  return { ip: request.ip, ...(typeof agent === 'string' ? { userAgent: agent.slice(0, 256) } : {}) };
});
