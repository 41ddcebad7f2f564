import type { INestApplication, Type } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer, Reflector } from '@nestjs/core';
import {
  getSchemaPath,
  type OpenAPIObject,
  type OperationObject,
  type PathItemObject,
  type ResponseObject,
} from '@nestjs/swagger';
import type { Scope } from '@docflow/authz';
import { ErrorModel } from '../http/api-models';
import { IS_PUBLIC } from './public.decorator';
import { PLATFORM_ADMIN, REQUIRED_SCOPES } from './scopes.decorator';

/** What the authentication guard reads from a route handler (the same metadata, the same precedence). */
export interface GuardRule {
  isPublic: boolean;
  scopes?: Scope[];
  platformAdmin: boolean;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export const UNAUTHENTICATED_DESCRIPTION =
  '`UNAUTHENTICATED`: no `Authorization: Bearer` token, or one that is invalid or expired (an access token with a ' +
  'bad signature, an unknown `kid` or an ended session; a personal access token that is revoked or expired)';

/** The guard's 403 for a route: what `AuthenticationGuard` refuses there. */
export function forbiddenDescription(rule: GuardRule): string {
  const token = rule.scopes?.length
    ? `a personal access token without the scope ${rule.scopes.map((s) => `\`${s}\``).join(' and ')}`
    : 'a personal access token (this route is for a signed-in person, with an access token)';
  return `\`FORBIDDEN\`: ${token}${rule.platformAdmin ? '; or not a platform administrator' : ''}`;
}

/** Every route handler of the application, by the operation id Swagger gives it (`<Controller>_<method>`). */
export function guardRules(app: INestApplication): Map<string, GuardRule> {
  const reflector = new Reflector();
  const rules = new Map<string, GuardRule>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type | null;
      if (!controller) continue;
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        const targets = [handler, controller];
        rules.set(`${controller.name}_${name}`, {
          isPublic: !!reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets),
          scopes: reflector.getAllAndOverride<Scope[] | undefined>(REQUIRED_SCOPES, targets),
          platformAdmin: !!reflector.getAllAndOverride<boolean>(PLATFORM_ADMIN, targets),
        });
      }
    }
  }
  return rules;
}

function errorResponse(description: string): ResponseObject {
  return { description, content: { 'application/json': { schema: { $ref: getSchemaPath(ErrorModel) } } } };
}

/** The guard's reason first, then what the route itself adds (a team role, an admin-only scope...). */
function merged(generic: string, existing: ResponseObject | undefined): string {
  const own = existing?.description?.trim();
  if (!own || own === generic) return generic;
  return `${generic}; or ${/^[A-Z](?![A-Z])/.test(own) ? own[0]!.toLowerCase() + own.slice(1) : own}`;
}

/**
 * The global authentication guard answers 401 and 403 on every route not marked `@Public()`: this pass writes both
 * into every such operation of the public API's description (and its bearer security), from the same metadata the
 * guard reads, so no route has to repeat them and a new route cannot miss them. A 401 or 403 a route declares
 * itself is kept after the guard's reason. An operation whose handler is not found fails the generation.
 */
export function describeGuardedOperations(app: INestApplication, document: OpenAPIObject): void {
  const rules = guardRules(app);
  for (const [path, item] of Object.entries(document.paths) as [string, PathItemObject][]) {
    for (const method of METHODS) {
      const operation: OperationObject | undefined = item[method];
      if (!operation) continue;
      const rule = rules.get(operation.operationId ?? '');
      if (!rule)
        throw new Error(`${method.toUpperCase()} ${path}: no route handler named ${operation.operationId}`);
      if (rule.isPublic) continue;
      operation.security ??= [{ bearer: [] }];
      const responses = operation.responses as Record<string, ResponseObject>;
      responses['401'] = errorResponse(merged(UNAUTHENTICATED_DESCRIPTION, responses['401']));
      responses['403'] = errorResponse(merged(forbiddenDescription(rule), responses['403']));
    }
  }
}
