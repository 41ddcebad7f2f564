import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { UsersDocsSubjects, type User, type UserPage } from '@docflow/contracts';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { ErrorModel, UserModel, UserPageModel } from '../http/api-models';
import { PageQueryDto } from '../http/page-query.dto';
import { uuidParam } from '../http/validation';
import { ServiceClient } from '@docflow/messaging';
import { CreateUserDto } from './create-user.dto';

@ApiTags('users')
@ApiResponse({ status: 400, type: ErrorModel, description: 'Invalid input; `details` names each field' })
@ApiResponse({ status: 503, type: ErrorModel, description: 'A service or the message bus is unavailable' })
@Controller('users')
export class UsersController {
  constructor(
    private readonly services: ServiceClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List users, newest first' })
  @ApiResponse({ status: 200, type: UserPageModel })
  list(@Query() query: PageQueryDto): Promise<UserPage> {
    return this.services.send(UsersDocsSubjects.userList, { limit: query.limit, cursor: query.cursor });
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a user' })
  @ApiResponse({ status: 201, type: UserModel })
  @ApiResponse({ status: 409, type: ErrorModel, description: 'The email is already registered' })
  create(@Body() body: CreateUserDto): Promise<User> {
    return this.services.send(UsersDocsSubjects.userCreate, { name: body.name, email: body.email });
  }

  @Get(':user_id')
  @ApiOperation({ summary: 'Get a user' })
  @ApiResponse({ status: 200, type: UserModel })
  @ApiResponse({ status: 404, type: ErrorModel })
  get(@Param('user_id', uuidParam('user_id')) userId: string): Promise<User> {
    return this.services.send(UsersDocsSubjects.userGet, { userId });
  }

  @Delete(':user_id')
  @HttpCode(204)
  @ApiOperation({ summary: "Delete a user, their documents and the documents' objects" })
  @ApiNoContentResponse()
  @ApiResponse({ status: 404, type: ErrorModel })
  async delete(@Param('user_id', uuidParam('user_id')) userId: string): Promise<void> {
    await this.services.send(
      UsersDocsSubjects.userDelete,
      { userId },
      { timeoutMs: this.config.RPC_LONG_TIMEOUT_MS },
    );
  }
}
