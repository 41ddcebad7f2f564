import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import {
  API_KEY_MAX_LENGTH,
  API_KEY_MIN_LENGTH,
  API_KEY_NAME_MAX_LENGTH,
  API_KEY_PROVIDERS,
  type ApiKeyProvider,
} from '@docflow/contracts';
import { PageQueryDto } from '../http/page-query.dto';

export class CreateApiKeyDto {
  @ApiProperty({ minLength: 1, maxLength: API_KEY_NAME_MAX_LENGTH, example: 'Personal OpenAI' })
  @IsString()
  @Length(1, API_KEY_NAME_MAX_LENGTH, { message: `must be 1 to ${API_KEY_NAME_MAX_LENGTH} characters` })
  @Matches(/\S/, { message: 'must not be blank' })
  @Matches(/^[^\p{Cc}]*$/u, { message: 'must not contain control characters' })
  name!: string;

  @ApiProperty({ enum: API_KEY_PROVIDERS, example: 'openai' })
  @IsIn(API_KEY_PROVIDERS, { message: `must be one of ${API_KEY_PROVIDERS.join(', ')}` })
  provider!: ApiKeyProvider;

  @ApiProperty({
    description: 'The provider key. Stored encrypted; never returned (only its last four characters).',
    minLength: API_KEY_MIN_LENGTH,
    maxLength: API_KEY_MAX_LENGTH,
    writeOnly: true,
    example: 'sk-proj-…',
  })
  @IsString()
  @Length(API_KEY_MIN_LENGTH, API_KEY_MAX_LENGTH, {
    message: `must be ${API_KEY_MIN_LENGTH} to ${API_KEY_MAX_LENGTH} characters long`,
  })
  @Matches(/^[\x21-\x7e]*$/, { message: 'must be printable ASCII characters without spaces' })
  key!: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Store the key for this team instead of for yourself' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a UUID' })
  teamId?: string;
}

export class ApiKeyOwnerQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: "The team's keys instead of your own" })
  @IsOptional()
  @IsUUID('all', { message: 'must be a UUID' })
  teamId?: string;
}

export class ListApiKeysQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: "The team's keys instead of your own" })
  @IsOptional()
  @IsUUID('all', { message: 'must be a UUID' })
  teamId?: string;
}
