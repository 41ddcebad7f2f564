import { Injectable, createParamDecorator, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DomainError, ErrorCode, type AuthPrincipal } from '@docflow/contracts';

/** The caller, as the authentication guard put it on the request (`request.principal`). */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthPrincipal => {
    const request = context.switchToHttp().getRequest<FastifyRequest & { principal?: AuthPrincipal }>();
    return request.principal ?? { kind: 'anonymous' };
  },
);

/** The calling user's id; 401 for a caller who is not a user (anonymous). */
export function requireUserId(principal: AuthPrincipal): string {
  if (!principal.userId) throw new DomainError(ErrorCode.UNAUTHENTICATED, 'Authentication required');
  return principal.userId.toLowerCase();
}

/**
 * For `/users/{user_id}/...` routes: the caller must be that user (or a platform admin). Another user's id
 * answers 404 exactly as an unknown one, so ids cannot be probed.
 */
export function requireSelfOrAdmin(principal: AuthPrincipal, userId: string, what = 'user'): string {
  const caller = requireUserId(principal);
  if (caller !== userId && !principal.isAdmin) throw DomainError.notFound(what);
  return userId;
}

/**
 * Guard for routes that need a signed-in user: runs before validation, so an anonymous caller gets 401 whatever
 * the body holds.
 */
@Injectable()
export class UserRequiredGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest & { principal?: AuthPrincipal }>();
    requireUserId(request.principal ?? { kind: 'anonymous' });
    return true;
  }
}
