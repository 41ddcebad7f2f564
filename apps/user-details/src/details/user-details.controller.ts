import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  UserDetailsSubjects,
  type GetUserDetailsRequest,
  type SetSubscriptionRequest,
  type UpdateUserDetailsRequest,
  type UserDetails,
} from '@docflow/contracts';
import { UserDetailsService } from './user-details.service';

@Controller()
export class UserDetailsController {
  constructor(private readonly details: UserDetailsService) {}

  @MessagePattern(UserDetailsSubjects.get)
  get(@Payload() request: GetUserDetailsRequest): Promise<UserDetails> {
    return this.details.get(request);
  }

  @MessagePattern(UserDetailsSubjects.update)
  update(@Payload() request: UpdateUserDetailsRequest): Promise<UserDetails> {
    return this.details.update(request);
  }

  @MessagePattern(UserDetailsSubjects.setSubscription)
  setSubscription(@Payload() request: SetSubscriptionRequest): Promise<UserDetails> {
    return this.details.setSubscription(request);
  }
}
