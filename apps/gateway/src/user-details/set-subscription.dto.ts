import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min, ValidateNested } from 'class-validator';
import {
  PLANS,
  QUOTA_LIMITS,
  SUBSCRIPTION_STATUSES,
  type Plan,
  type SubscriptionStatus,
} from '@docflow/contracts';

/** The quota limits to change; the others stay. 0 stops the user from adding more. */
export class QuotaPatchDto {
  @ApiPropertyOptional({ minimum: 0, maximum: QUOTA_LIMITS.maxDocuments.max, example: 1000 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(QUOTA_LIMITS.maxDocuments.max)
  maxDocuments?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: QUOTA_LIMITS.maxStorageBytes.max, example: 10737418240 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(QUOTA_LIMITS.maxStorageBytes.max)
  maxStorageBytes?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: QUOTA_LIMITS.maxJobsPerDay.max, example: 200 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(QUOTA_LIMITS.maxJobsPerDay.max)
  maxJobsPerDay?: number;
}

/** What billing and platform administrators set: only the fields sent change (at least one). */
export class SetSubscriptionDto {
  @ApiPropertyOptional({ enum: PLANS })
  @IsOptional()
  @IsIn(PLANS)
  plan?: Plan;

  @ApiPropertyOptional({ enum: SUBSCRIPTION_STATUSES })
  @IsOptional()
  @IsIn(SUBSCRIPTION_STATUSES)
  subscriptionStatus?: SubscriptionStatus;

  @ApiPropertyOptional({ type: QuotaPatchDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => QuotaPatchDto)
  quota?: QuotaPatchDto;
}
