import { Body, Controller, Get, Param, Patch } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { UserDetailsSubjects, type AuthPrincipal, type UserDetails } from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { CurrentPrincipal, requireSelfOrAdmin } from '../auth/principal';
import { PlatformAdmin, RequireScopes } from '../auth/scopes.decorator';
import { ErrorModel, UserDetailsModel } from '../http/api-models';
import { uuidParam } from '../http/validation';
import { SetSubscriptionDto } from './set-subscription.dto';
import { UpdateUserDetailsDto } from './update-user-details.dto';

@ApiTags('user-details')
@ApiBearerAuth()
@ApiResponse({ status: 400, type: ErrorModel, description: 'Invalid input; `details` names each field' })
@ApiResponse({
  status: 404,
  type: ErrorModel,
  description: "Unknown user, another user's id, or a user whose setup has not run yet",
})
@ApiResponse({ status: 503, type: ErrorModel, description: 'A service or the message bus is unavailable' })
@Controller('users/:user_id/details')
export class UserDetailsController {
  constructor(private readonly services: ServiceClient) {}

  @Get()
  @RequireScopes('profile:read')
  @ApiOperation({ summary: 'Your profile, plan, subscription status and quota' })
  @ApiResponse({ status: 200, type: UserDetailsModel })
  get(
    @CurrentPrincipal() principal: AuthPrincipal,
    @Param('user_id', uuidParam('user_id')) userId: string,
  ): Promise<UserDetails> {
    requireSelfOrAdmin(principal, userId, 'user details');
    return this.services.send(UserDetailsSubjects.get, { userId });
  }

  @Patch()
  @RequireScopes('profile:write')
  @ApiOperation({
    summary: 'Change your profile (displayName, bio, locale, timezone, avatarUrl)',
    description:
      'Only the fields sent change; `null` clears `bio` or `avatarUrl`. Plan, subscription status and quota are ' +
      'set by platform administrators (`PATCH …/details/subscription`): sending them here answers 400.',
  })
  @ApiResponse({ status: 200, type: UserDetailsModel })
  update(
    @CurrentPrincipal() principal: AuthPrincipal,
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Body() body: UpdateUserDetailsDto,
  ): Promise<UserDetails> {
    requireSelfOrAdmin(principal, userId, 'user details');
    return this.services.send(UserDetailsSubjects.update, {
      userId,
      displayName: body.displayName,
      bio: body.bio,
      locale: body.locale,
      timezone: body.timezone,
      avatarUrl: body.avatarUrl,
    });
  }

  @Patch('subscription')
  @PlatformAdmin()
  @RequireScopes('users:admin')
  @ApiOperation({
    summary: "Set a user's plan, subscription status and quota (platform admins)",
    description:
      'Only the fields sent change, and in `quota` only the limits sent; at least one field. The quota applies ' +
      'to new documents and jobs from then on (what exists stays).',
  })
  @ApiResponse({ status: 200, type: UserDetailsModel })
  setSubscription(
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Body() body: SetSubscriptionDto,
  ): Promise<UserDetails> {
    return this.services.send(UserDetailsSubjects.setSubscription, {
      userId,
      plan: body.plan,
      subscriptionStatus: body.subscriptionStatus,
      quota: body.quota && { ...body.quota },
    });
  }
}
