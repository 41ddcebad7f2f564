import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import {
  JOB_DOCUMENT_STATUSES,
  JOB_STATUSES,
  JOB_STRATEGIES,
  type JobDocumentStatus,
  type JobStatus,
  type JobStrategy,
} from '@docflow/contracts';
import { PageQueryDto } from '../http/page-query.dto';

export class ModelChoiceDto {
  @ApiProperty({
    example: 'openai',
    enum: ['offline', 'openai', 'openai-compatible', 'azure', 'ollama', 'vllm'],
  })
  @IsIn(['offline', 'openai', 'openai-compatible', 'azure', 'ollama', 'vllm'])
  provider!: string;

  @ApiProperty({ example: 'gpt-4o-mini' })
  @IsString()
  @MaxLength(128)
  model!: string;
}

export class JobOptionsDto {
  @ApiPropertyOptional({
    description: 'The crew\'s parameters, e.g. `{ "targetLanguage": "French" }`',
    type: 'object',
    additionalProperties: { type: 'string' },
  })
  @IsOptional()
  @IsObject()
  params?: Record<string, string>;

  @ApiPropertyOptional({
    type: ModelChoiceDto,
    description: 'The model every agent uses (offline by default)',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => ModelChoiceDto)
  model?: ModelChoiceDto;

  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'A provider key you stored (`POST /apikeys`) for the model calls: the steps get it from the vault while ' +
      'the job runs, never through a workflow parameter',
  })
  @IsOptional()
  @IsUUID('all', { message: 'must be a key id (UUID)' })
  apiKeyId?: string;
}

export class CreateJobDto {
  @ApiProperty({ type: [String], format: 'uuid', minItems: 1, maxItems: 10000 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10_000)
  @IsUUID('all', { each: true, message: 'each entry must be a document id (UUID)' })
  docIds!: string[];

  @ApiPropertyOptional({
    default: 'summarize',
    enum: ['summarize', 'translate', 'extract', 'rewrite', 'review'],
  })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z0-9-]{0,63}$/, { message: 'must be a crew name' })
  crew?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  flowId?: string;

  @ApiPropertyOptional({ enum: JOB_STRATEGIES, default: 'individual' })
  @IsOptional()
  @IsIn(JOB_STRATEGIES)
  strategy?: JobStrategy;

  @ApiPropertyOptional({ type: JobOptionsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => JobOptionsDto)
  options?: JobOptionsDto;
}

export class ListJobsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: JOB_STATUSES })
  @IsOptional()
  @IsIn(JOB_STATUSES)
  status?: JobStatus;
}

export class ListJobInputsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: JOB_DOCUMENT_STATUSES })
  @IsOptional()
  @IsIn(JOB_DOCUMENT_STATUSES)
  status?: JobDocumentStatus;
}
