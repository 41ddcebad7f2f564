import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  IdentitySubjects,
  type AccountUser,
  type AuthResult,
  type CreateAccountRequest,
  type DeleteUserRequest,
  type LoginRequest,
  type SignupRequest,
  type UserIdRequest,
} from '@docflow/contracts';
import { AccountsService } from './accounts.service';

@Controller()
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @MessagePattern(IdentitySubjects.signup)
  signup(@Payload() request: SignupRequest): Promise<AuthResult> {
    return this.accounts.signup(request);
  }

  @MessagePattern(IdentitySubjects.login)
  login(@Payload() request: LoginRequest): Promise<AuthResult> {
    return this.accounts.login(request);
  }

  @MessagePattern(IdentitySubjects.userGet)
  get(@Payload() request: UserIdRequest): Promise<AccountUser> {
    return this.accounts.get(request.userId);
  }

  @MessagePattern(IdentitySubjects.userCreate)
  create(@Payload() request: CreateAccountRequest): Promise<AccountUser> {
    return this.accounts.createByAdmin(request);
  }

  @MessagePattern(IdentitySubjects.userDelete)
  async delete(@Payload() request: DeleteUserRequest): Promise<{ deleted: true }> {
    await this.accounts.delete(request);
    return { deleted: true };
  }
}
