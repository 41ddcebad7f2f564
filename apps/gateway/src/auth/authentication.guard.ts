import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { IS_PUBLIC } from './public.decorator';

/** Who is calling. Identity fills it from a verified token; until then every caller is anonymous. */
export interface Principal {
  kind: 'anonymous' | 'user' | 'service';
  userId?: string;
}

/** Turns a request into a principal, or throws an UNAUTHENTICATED DomainError. */
export abstract class Authenticator {
  abstract authenticate(request: FastifyRequest): Promise<Principal>;
}

/**
 * The stand-in until the identity service lands (issue 3): it admits every request as anonymous.
 * The guard, the `@Public()` marking and the principal on the request are already the real shape,
 * so identity replaces only this class.
 */
@Injectable()
export class AnonymousAuthenticator extends Authenticator {
  async authenticate(): Promise<Principal> {
    return { kind: 'anonymous' };
  }
}

/** Global guard in front of every public-API route; routes marked `@Public()` skip it. */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    request.principal = await this.authenticator.authenticate(request);
    return true;
  }
}
