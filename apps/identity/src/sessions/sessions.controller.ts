import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  IdentitySubjects,
  type AuthResult,
  type JsonWebKeySet,
  type LogoutRequest,
  type LogoutResult,
  type RefreshRequest,
  type SessionCheckRequest,
  type SessionCheckResult,
} from '@docflow/contracts';
import { SigningKeys } from '../keys/signing-keys';
import { SessionsService } from './sessions.service';

@Controller()
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly keys: SigningKeys,
  ) {}

  @MessagePattern(IdentitySubjects.refresh)
  refresh(@Payload() request: RefreshRequest): Promise<AuthResult> {
    return this.sessions.refresh(String(request.refreshToken ?? ''), {
      ip: request.ip,
      userAgent: request.userAgent,
    });
  }

  @MessagePattern(IdentitySubjects.logout)
  async logout(@Payload() request: LogoutRequest): Promise<LogoutResult> {
    const sessionId = await this.sessions.logout(request.userId, request.sessionId, request.refreshToken, {
      ip: request.ip,
      userAgent: request.userAgent,
    });
    return { loggedOut: true, ...(sessionId ? { sessionId } : {}) };
  }

  @MessagePattern(IdentitySubjects.sessionCheck)
  check(@Payload() request: SessionCheckRequest): Promise<SessionCheckResult> {
    return this.sessions.check(request.userId, request.sessionId);
  }

  @MessagePattern(IdentitySubjects.jwksGet)
  async jwks(): Promise<JsonWebKeySet> {
    await this.keys.init();
    return this.keys.jwks();
  }
}
