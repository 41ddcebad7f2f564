import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  IdentitySubjects,
  UsersDocsSubjects,
  type AccountUser,
  type ClientInfo,
  type User,
  type UserPage,
  type DeleteUserRequest,
} from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { ClientInfoParam, CurrentPrincipal } from '../auth/principal';
import { PlatformAdmin, RequireScopes } from '../auth/scopes.decorator';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { ErrorModel, UserModel, UserPageModel } from '../http/api-models';
import { PageQueryDto } from '../http/page-query.dto';
import { uuidParam } from '../http/validation';
import { CreateUserDto } from './create-user.dto';

@ApiTags('users')
@ApiBearerAuth()
@ApiResponse({ status: 400, type: ErrorModel, description: 'Invalid input; `details` names each field' })
@ApiResponse({ status: 503, type: ErrorModel, description: 'A service or the message bus is unavailable' })
@Controller('users')
export class UsersController {
  constructor(
    private readonly services: ServiceClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Get()
  @PlatformAdmin()
  @RequireScopes('users:admin')
  @ApiOperation({ summary: 'List users, newest first (platform admins)' })
  @ApiResponse({ status: 200, type: UserPageModel })
  list(@Query() query: PageQueryDto): Promise<UserPage> {
    return this.services.send(UsersDocsSubjects.userList, { limit: query.limit, cursor: query.cursor });
  }

  @Post()
  @HttpCode(201)
  @PlatformAdmin()
  @RequireScopes('users:admin')
  @ApiOperation({
    summary: 'Create a user (platform admins)',
    description: 'Without `password` the account cannot sign in. People sign up with `POST /auth/signup`.',
  })
  @ApiResponse({ status: 201, type: UserModel })
  @ApiResponse({ status: 409, type: ErrorModel, description: 'The email is already registered' })
  async create(
    @Body() body: CreateUserDto,
    @CurrentPrincipal() caller: { userId: string },
    @ClientInfoParam() client: ClientInfo,
  ): Promise<User> {
    const account = await this.services.send<AccountUser>(
      IdentitySubjects.userCreate,
      { actorId: caller.userId, name: body.name, email: body.email, password: body.password, ...client },
      { timeoutMs: 10_000 },
    );
    return this.services.send(UsersDocsSubjects.userGet, { userId: account.id });
  }

  @Get(':user_id')
  @RequireScopes('profile:read')
  @ApiOperation({ summary: 'Get a user (yourself, or anyone as a platform admin)' })
  @ApiResponse({ status: 200, type: UserModel })
  @ApiResponse({ status: 404, type: ErrorModel })
  get(@Param('user_id', uuidParam('user_id')) userId: string): Promise<User> {
    return this.services.send(UsersDocsSubjects.userGet, { userId });
  }

  @Delete(':user_id')
  @HttpCode(204)
  @ApiOperation({
    summary:
      'Delete a user: their documents and objects, their account, sessions, tokens and memberships, the teams ' +
      'nobody else is in; their provider keys, details, jobs and schedules follow within seconds',
  })
  @ApiNoContentResponse()
  @ApiResponse({ status: 404, type: ErrorModel })
  @ApiResponse({
    status: 409,
    type: ErrorModel,
    description: 'You are the only owner of a team that has other members (`details` names the teams)',
  })
  async delete(
    @Param('user_id', uuidParam('user_id')) userId: string,
    @CurrentPrincipal() caller: { userId: string },
  ): Promise<void> {
    await this.services.send(
      IdentitySubjects.userDelete,
      { userId, actorId: caller.userId } satisfies DeleteUserRequest,
      { timeoutMs: this.config.RPC_LONG_TIMEOUT_MS },
    );
  }
}
