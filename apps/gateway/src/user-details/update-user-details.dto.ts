import { ApiHideProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  MaxLength,
  ValidateBy,
  ValidateIf,
  type ValidationOptions,
} from 'class-validator';

/** A BCP 47 language tag that Intl knows (`en`, `fr-CA`, `zh-Hant-TW`). */
export function isLocale(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > 35 || !/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(value))
    return false;
  try {
    return Intl.getCanonicalLocales(value).length === 1;
  } catch {
    return false;
  }
}

/** An IANA time zone that Intl knows (`Europe/Paris`, `UTC`). */
export function isTimeZone(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const IsLocale = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isLocale',
      validator: {
        validate: isLocale,
        defaultMessage: () => 'must be a BCP 47 language tag such as en or fr-CA',
      },
    },
    options,
  );

const IsTimeZone = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isTimeZone',
      validator: {
        validate: isTimeZone,
        defaultMessage: () => 'must be an IANA time zone such as Europe/Paris',
      },
    },
    options,
  );

/** Fields a user cannot set: present at all is a 400 that says who sets them. */
const SetByBilling = () =>
  ValidateBy({
    name: 'setByBilling',
    validator: {
      validate: (value) => value === undefined,
      defaultMessage: () =>
        'is set by platform administrators (PATCH …/details/subscription), not by this route',
    },
  });

/**
 * The profile fields a user may change. Plan, subscription status and quota belong to billing and platform
 * administrators; sending them is refused with a message that says so.
 */
export class UpdateUserDetailsDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100, example: 'Ada' })
  @IsOptional()
  @IsString()
  @Length(1, 100, { message: 'must be 1 to 100 characters' })
  @Matches(/\S/, { message: 'must not be blank' })
  @Matches(/^[^\p{Cc}]*$/u, { message: 'must not contain control characters' })
  displayName?: string;

  @ApiPropertyOptional({ type: String, maxLength: 1000, nullable: true, description: '`null` clears it' })
  @ValidateIf((_o, v) => v !== undefined && v !== null)
  @IsString()
  @MaxLength(1000)
  bio?: string | null;

  @ApiPropertyOptional({ example: 'fr-CA', description: 'BCP 47 language tag' })
  @IsOptional()
  @IsLocale()
  locale?: string;

  @ApiPropertyOptional({ example: 'Europe/Paris', description: 'IANA time zone' })
  @IsOptional()
  @IsTimeZone()
  timezone?: string;

  @ApiPropertyOptional({
    type: String,
    format: 'uri',
    maxLength: 2048,
    nullable: true,
    description: 'https URL; `null` clears it',
  })
  @ValidateIf((_o, v) => v !== undefined && v !== null)
  @IsString()
  @MaxLength(2048)
  @IsUrl(
    { protocols: ['https'], require_protocol: true, require_tld: true },
    { message: 'must be an https URL' },
  )
  avatarUrl?: string | null;

  @ApiHideProperty() @SetByBilling() plan?: never;
  @ApiHideProperty() @SetByBilling() subscriptionStatus?: never;
  @ApiHideProperty() @SetByBilling() quota?: never;
}
