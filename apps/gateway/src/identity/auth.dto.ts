import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsEmail,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { TEAM_ROLES, type TeamRole } from '@docflow/contracts';
import { SCOPES, type Scope } from '@docflow/authz';

const NAME_RULES = [
  IsString(),
  MinLength(1),
  MaxLength(200),
  Matches(/\S/, { message: 'must not be blank' }),
  Matches(/^[^\p{Cc}]*$/u, { message: 'must not contain control characters' }),
];
const applyAll =
  (...decorators: PropertyDecorator[]): PropertyDecorator =>
  (target, key) =>
    decorators.forEach((d) => d(target, key));

/** OWASP: at least 8 characters, long passphrases allowed, any character. */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

export class SignupDto {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'Ada Lovelace' })
  @applyAll(...NAME_RULES)
  name!: string;

  @ApiProperty({ format: 'email', maxLength: 254, example: 'ada@example.com' })
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'must be an email address' })
  email!: string;

  @ApiProperty({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX, format: 'password' })
  @IsString()
  @MinLength(PASSWORD_MIN, { message: `must be at least ${PASSWORD_MIN} characters` })
  @MaxLength(PASSWORD_MAX, { message: `must be at most ${PASSWORD_MAX} characters` })
  password!: string;

  @ApiPropertyOptional({ format: 'date', example: '1815-12-10', description: 'Date of birth, YYYY-MM-DD' })
  @IsOptional()
  @IsString()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date YYYY-MM-DD' })
  @IsISO8601({ strict: true }, { message: 'must be a date YYYY-MM-DD' })
  birth?: string;
}

export class LoginDto {
  @ApiPropertyOptional({ format: 'email', description: 'The account email (or send it as `user`)' })
  @ValidateIf((o: LoginDto) => o.user === undefined)
  @IsString({ message: 'is required (or send `user`)' })
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({ description: 'Same as `email`' })
  @ValidateIf((o: LoginDto) => o.email === undefined)
  @IsString({ message: 'is required (or send `email`)' })
  @MaxLength(254)
  user?: string;

  @ApiProperty({ format: 'password' })
  @IsString()
  @MinLength(1)
  @MaxLength(PASSWORD_MAX)
  password!: string;
}

export class RefreshDto {
  @ApiProperty({ description: 'The refresh token from signup, login or the last refresh' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  refreshToken!: string;
}

export class LogoutDto {
  @ApiPropertyOptional({ description: 'End the session of this refresh token instead of the current one' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  refreshToken?: string;
}

export class CreateTokenDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'ci-pipeline' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @Matches(/\S/, { message: 'must not be blank' })
  @Matches(/^[^\p{Cc}]*$/u, { message: 'must not contain control characters' })
  name!: string;

  @ApiProperty({ enum: SCOPES, isArray: true, example: ['documents:read', 'jobs:write'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(SCOPES.length)
  @IsIn(SCOPES, { each: true, message: `each must be one of ${SCOPES.join(', ')}` })
  scopes!: Scope[];

  @ApiPropertyOptional({ format: 'date-time', description: 'When it stops working; never when absent' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'must be an ISO 8601 date-time' })
  expiresAt?: string;
}

export class CreateTeamDto {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'Research' })
  @applyAll(...NAME_RULES)
  name!: string;
}

export class AddMemberDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'The user to add (or `email`)' })
  @ValidateIf((o: AddMemberDto) => o.email === undefined)
  @IsUUID('all', { message: 'must be a UUID (or send `email`)' })
  userId?: string;

  @ApiPropertyOptional({ format: 'email', description: 'The user to add (or `userId`)' })
  @ValidateIf((o: AddMemberDto) => o.userId === undefined)
  @IsString({ message: 'is required (or send `userId`)' })
  @MaxLength(254)
  @IsEmail({}, { message: 'must be an email address' })
  email?: string;

  @ApiProperty({ enum: TEAM_ROLES })
  @IsIn(TEAM_ROLES, { message: `must be one of ${TEAM_ROLES.join(', ')}` })
  role!: TeamRole;
}

export class UpdateMemberDto {
  @ApiProperty({ enum: TEAM_ROLES })
  @IsIn(TEAM_ROLES, { message: `must be one of ${TEAM_ROLES.join(', ')}` })
  role!: TeamRole;
}
