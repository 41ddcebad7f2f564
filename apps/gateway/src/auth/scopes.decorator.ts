import { SetMetadata } from '@nestjs/common';
import type { Scope } from '@docflow/authz';

export const REQUIRED_SCOPES = 'docflow:requiredScopes';
export const PLATFORM_ADMIN = 'docflow:platformAdmin';

/**
 * The scope a personal access token needs for this route. A route without it admits people (access tokens)
 * only: a token gets 403 there. See docs/authorization.md.
 */
export const RequireScopes = (...scopes: Scope[]): MethodDecorator & ClassDecorator =>
  SetMetadata(REQUIRED_SCOPES, scopes);

/** Platform administrators only (403 for everyone else). */
export const PlatformAdmin = (): MethodDecorator & ClassDecorator => SetMetadata(PLATFORM_ADMIN, true);
