import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  UsersDocsSubjects,
  type CreateUserRequest,
  type ListUsersRequest,
  type ReclaimUserReply,
  type ReclaimUserRequest,
  type User,
  type UserPage,
  type UserRef,
} from '@docflow/contracts';
import { UsersService } from './users.service';

@Controller()
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @MessagePattern(UsersDocsSubjects.userCreate)
  create(@Payload() request: CreateUserRequest): Promise<User> {
    return this.users.create(request);
  }

  @MessagePattern(UsersDocsSubjects.userList)
  list(@Payload() request: ListUsersRequest): Promise<UserPage> {
    return this.users.list(request);
  }

  @MessagePattern(UsersDocsSubjects.userGet)
  get(@Payload() request: UserRef): Promise<User> {
    return this.users.get(request.userId);
  }

  @MessagePattern(UsersDocsSubjects.userReclaim)
  reclaim(@Payload() request: ReclaimUserRequest): Promise<ReclaimUserReply> {
    return this.users.reclaim(request);
  }

  @MessagePattern(UsersDocsSubjects.userDelete)
  async delete(@Payload() request: UserRef): Promise<{ deleted: true }> {
    await this.users.delete(request.userId);
    return { deleted: true };
  }
}
