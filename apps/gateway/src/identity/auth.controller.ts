import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import {
  IdentitySubjects,
  MAX_ACTIVE_PERSONAL_ACCESS_TOKENS,
  type AccountUser,
  type AuditEventPage,
  type AuthResult,
  type ClientInfo,
  type CreatedPersonalAccessToken,
  type JsonWebKeySet,
  type LogoutResult,
  type PersonalAccessTokenPage,
} from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { IdentityAuthenticator } from '../auth/identity.authenticator';
import { ClientInfoParam, CurrentPrincipal } from '../auth/principal';
import { Public } from '../auth/public.decorator';
import { RequireScopes } from '../auth/scopes.decorator';
import {
  AccountUserModel,
  AuditEventPageModel,
  AuthResultModel,
  CreatedPersonalAccessTokenModel,
  ErrorModel,
  JwksModel,
  PersonalAccessTokenPageModel,
  RETRY_AFTER_HEADER,
} from '../http/api-models';
import { PageQueryDto } from '../http/page-query.dto';
import { uuidParam } from '../http/validation';
import { CreateTokenDto, LoginDto, LogoutDto, RefreshDto, SignupDto } from './auth.dto';

type Caller = { userId: string; sessionId?: string };

@ApiTags('auth')
@ApiResponse({ status: 400, type: ErrorModel, description: 'Invalid input; `details` names each field' })
@ApiResponse({ status: 503, type: ErrorModel, description: 'A service or the message bus is unavailable' })
@Controller('auth')
export class AuthController {
  constructor(
    private readonly services: ServiceClient,
    private readonly authenticator: IdentityAuthenticator,
  ) {}

  @Post('signup')
  @Public()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an account and sign in' })
  @ApiResponse({ status: 201, type: AuthResultModel })
  @ApiResponse({ status: 409, type: ErrorModel, description: 'The email is already registered' })
  @ApiResponse({
    status: 429,
    type: ErrorModel,
    headers: RETRY_AFTER_HEADER,
    description: 'Too many signups from this IP address, or for this email address; see `Retry-After`',
  })
  signup(@Body() body: SignupDto, @ClientInfoParam() client: ClientInfo): Promise<AuthResult> {
    return this.services.send(IdentitySubjects.signup, { ...body, ...client }, { timeoutMs: 10_000 });
  }

  @Post('login')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with email (or `user`) and password' })
  @ApiResponse({ status: 200, type: AuthResultModel })
  @ApiResponse({
    status: 401,
    type: ErrorModel,
    description: 'Invalid email or password (one message for both)',
  })
  @ApiResponse({
    status: 429,
    type: ErrorModel,
    headers: RETRY_AFTER_HEADER,
    description:
      'Too many attempts from this IP address, or failed ones for this account (even with the right password ' +
      'until the window ends); see `Retry-After`',
  })
  login(@Body() body: LoginDto, @ClientInfoParam() client: ClientInfo): Promise<AuthResult> {
    return this.services.send(
      IdentitySubjects.login,
      { email: body.email ?? body.user, password: body.password, ...client },
      { timeoutMs: 10_000 },
    );
  }

  @Post('refresh')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Exchange a refresh token for new tokens',
    description:
      'The refresh token rotates: the old one stops working, and presenting it again ends the session.',
  })
  @ApiResponse({ status: 200, type: AuthResultModel })
  @ApiResponse({ status: 401, type: ErrorModel })
  refresh(@Body() body: RefreshDto, @ClientInfoParam() client: ClientInfo): Promise<AuthResult> {
    return this.services.send(IdentitySubjects.refresh, { refreshToken: body.refreshToken, ...client });
  }

  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'End the current session (or the one of `refreshToken`): its tokens stop working',
  })
  @ApiNoContentResponse()
  async logout(
    @Body() body: LogoutDto,
    @CurrentPrincipal() caller: Caller,
    @ClientInfoParam() client: ClientInfo,
  ): Promise<void> {
    const sessionId = body.refreshToken ? undefined : caller.sessionId;
    const result = await this.services.send<LogoutResult>(IdentitySubjects.logout, {
      userId: caller.userId,
      sessionId,
      refreshToken: body.refreshToken,
      ...client,
    });
    // The session identity ended: the caller's own, or the one of the refresh token (which only identity knows).
    const ended = result?.sessionId ?? sessionId;
    if (ended) this.authenticator.forgetSession(ended);
  }

  @Get('me')
  @RequireScopes('profile:read')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The signed-in account' })
  @ApiResponse({ status: 200, type: AccountUserModel })
  me(@CurrentPrincipal() caller: Caller): Promise<AccountUser> {
    return this.services.send(IdentitySubjects.userGet, { userId: caller.userId });
  }

  @Get('.well-known/jwks.json')
  @Public()
  @ApiOperation({ summary: 'The public keys that verify access tokens (JWK Set)' })
  @ApiResponse({ status: 200, type: JwksModel })
  async jwks(@Res({ passthrough: true }) reply: FastifyReply): Promise<JsonWebKeySet> {
    void reply.header('cache-control', 'public, max-age=300');
    return this.services.send(IdentitySubjects.jwksGet, {});
  }

  @Post('tokens')
  @HttpCode(201)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Create a personal access token (for CI); the token is in this answer only',
    description:
      'Works as `Authorization: Bearer dfp_...` wherever an access token does, limited to its scopes.',
  })
  @ApiResponse({ status: 201, type: CreatedPersonalAccessTokenModel })
  @ApiResponse({
    status: 403,
    type: ErrorModel,
    description: '`users:admin` asked for by someone who is not a platform administrator',
  })
  @ApiResponse({
    status: 409,
    type: ErrorModel,
    description:
      `You hold ${MAX_ACTIVE_PERSONAL_ACCESS_TOKENS} tokens that are not revoked (expired ones count until ` +
      'revoked), the most allowed: revoke one first',
  })
  createToken(
    @Body() body: CreateTokenDto,
    @CurrentPrincipal() caller: Caller,
    @ClientInfoParam() client: ClientInfo,
  ): Promise<CreatedPersonalAccessToken> {
    return this.services.send(IdentitySubjects.tokenCreate, {
      userId: caller.userId,
      name: body.name,
      scopes: body.scopes,
      expiresAt: body.expiresAt,
      ...client,
    });
  }

  @Get('tokens')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Your personal access tokens, newest first (never the secrets)' })
  @ApiResponse({ status: 200, type: PersonalAccessTokenPageModel })
  listTokens(
    @Query() query: PageQueryDto,
    @CurrentPrincipal() caller: Caller,
  ): Promise<PersonalAccessTokenPage> {
    return this.services.send(IdentitySubjects.tokenList, {
      userId: caller.userId,
      limit: query.limit,
      cursor: query.cursor,
    });
  }

  @Delete('tokens/:token_id')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Revoke a personal access token' })
  @ApiNoContentResponse()
  @ApiResponse({ status: 404, type: ErrorModel, description: 'No such token of yours' })
  async revokeToken(
    @Param('token_id', uuidParam('token_id')) tokenId: string,
    @CurrentPrincipal() caller: Caller,
    @ClientInfoParam() client: ClientInfo,
  ): Promise<void> {
    await this.services.send(IdentitySubjects.tokenRevoke, { userId: caller.userId, tokenId, ...client });
    this.authenticator.forgetToken(tokenId);
  }

  @Get('audit')
  @RequireScopes('audit:read')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Your security events, newest first',
    description:
      'Sign-ins (succeeded, failed, rate limited), sign-outs, refresh-token reuse, tokens created and revoked, ' +
      'team membership changes, provider keys created, used and deleted.',
  })
  @ApiResponse({ status: 200, type: AuditEventPageModel })
  audit(@Query() query: PageQueryDto, @CurrentPrincipal() caller: Caller): Promise<AuditEventPage> {
    return this.services.send(IdentitySubjects.auditList, {
      userId: caller.userId,
      limit: query.limit,
      cursor: query.cursor,
    });
  }
}
