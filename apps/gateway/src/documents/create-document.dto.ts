import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';

/** `type/subtype` with optional parameters, as in RFC 6838. */
const MIME_TYPE =
  /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}(\s*;\s*[a-z0-9!#$&^_.+-]+=("[^"\\\r\n]*"|[a-z0-9!#$&^_.+-]+))*$/i;

export class CreateDocumentDto {
  @ApiProperty({ minLength: 1, maxLength: 255, example: 'contract.pdf' })
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  @Matches(/\S/, { message: 'must not be blank' })
  @Matches(/^[^\p{Cc}/\\]*$/u, { message: 'must not contain control characters or slashes' })
  name!: string;

  @ApiProperty({ maxLength: 255, example: 'application/pdf' })
  @IsString()
  @MaxLength(255)
  @Matches(/^[^\p{Cc}]*$/u, { message: 'must not contain control characters' })
  @Matches(MIME_TYPE, { message: 'must be a media type such as text/plain' })
  contentType!: string;

  @ApiProperty({ description: 'Size in bytes; the upload must match it exactly', minimum: 1, example: 52133 })
  @IsInt({ message: 'must be an integer number of bytes' })
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  size!: number;
}
