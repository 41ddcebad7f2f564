import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  IdentitySubjects,
  type CreatedPersonalAccessToken,
  type CreateTokenRequest,
  type ListTokensRequest,
  type PersonalAccessToken,
  type PersonalAccessTokenPage,
  type RevokeTokenRequest,
  type VerifiedToken,
  type VerifyTokenRequest,
} from '@docflow/contracts';
import { TokensService } from './tokens.service';

@Controller()
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @MessagePattern(IdentitySubjects.tokenCreate)
  create(@Payload() request: CreateTokenRequest): Promise<CreatedPersonalAccessToken> {
    return this.tokens.create(request);
  }

  @MessagePattern(IdentitySubjects.tokenList)
  list(@Payload() request: ListTokensRequest): Promise<PersonalAccessTokenPage> {
    return this.tokens.list(request);
  }

  @MessagePattern(IdentitySubjects.tokenRevoke)
  revoke(@Payload() request: RevokeTokenRequest): Promise<PersonalAccessToken> {
    return this.tokens.revoke(request);
  }

  @MessagePattern(IdentitySubjects.tokenVerify)
  verify(@Payload() request: VerifyTokenRequest): Promise<VerifiedToken> {
    return this.tokens.verify(request.token);
  }
}
