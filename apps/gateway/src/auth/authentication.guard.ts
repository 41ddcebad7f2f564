import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError, ErrorCode } from '@docflow/contracts';
import { canReachUser, hasScopes, type Scope } from '@docflow/authz';
import { Authenticator } from './identity.authenticator';
import type { AuthenticatedRequest } from './principal';
import { IS_PUBLIC } from './public.decorator';
import { PLATFORM_ADMIN, REQUIRED_SCOPES } from './scopes.decorator';

export { Authenticator, type Principal } from './identity.authenticator';

/** Routes under `/users/{user_id}` (not `/teams/{team_id}/members/{user_id}`, whose user is a member). */
const USER_ROUTE = /\/users\/:user_id(\/|$)/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Global guard in front of every public-API route; routes marked `@Public()` skip it. In order:
 * 1. authentication (a verified access token or personal access token, else 401: an authenticator that answers
 *    with an anonymous principal, as the tests' header authenticator does without its header, is a 401 too);
 * 2. scopes: a token must hold the route's `@RequireScopes`, and a route with none admits no token (403);
 * 3. `@PlatformAdmin()` routes: admins only (403);
 * 4. `/users/{user_id}/...` (every route under it): the caller's own id or an admin, else
 *    404 as for an unknown user — one check for every such route, present and future.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = await this.authenticator.authenticate(request);
    // An authenticator admits a user or a token, or throws; a principal naming nobody is refused all the same.
    if (principal.kind === 'anonymous' || !principal.userId) {
      throw new DomainError(ErrorCode.UNAUTHENTICATED, 'Authentication required');
    }
    request.principal = principal;

    const scopes = this.reflector.getAllAndOverride<Scope[] | undefined>(REQUIRED_SCOPES, targets);
    if (!hasScopes(principal, scopes)) {
      throw new DomainError(
        ErrorCode.FORBIDDEN,
        scopes?.length
          ? `This token lacks the scope ${scopes.join(' and ')}`
          : 'This route needs a signed-in user; personal access tokens cannot use it',
      );
    }
    if (this.reflector.getAllAndOverride<boolean>(PLATFORM_ADMIN, targets) && !principal.isAdmin) {
      throw new DomainError(ErrorCode.FORBIDDEN, 'Platform administrators only');
    }
    const userId = USER_ROUTE.test(request.routeOptions?.url ?? '')
      ? (request.params as Record<string, string> | undefined)?.user_id
      : undefined;
    // A malformed id goes on to the parameter's validation (400 naming it): it can name nobody.
    if (userId !== undefined && UUID.test(userId) && !canReachUser(principal, userId)) {
      throw DomainError.notFound('user');
    }
    return true;
  }
}
