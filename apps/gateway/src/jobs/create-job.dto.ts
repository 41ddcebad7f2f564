import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  ValidateNested,
  type ValidationArguments,
} from 'class-validator';
import {
  JOB_DOCUMENT_STATUSES,
  JOB_STATUSES,
  JOB_STRATEGIES,
  OBJECT_BATCH_SIZE_DEFAULT,
  OBJECT_BATCH_SIZE_MAX,
  OBJECT_BATCH_SIZE_MIN,
  parseInstant,
  type JobDocumentStatus,
  type JobStatus,
  type JobStrategy,
  type ListJobsRequest,
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

  @ApiPropertyOptional({
    minimum: OBJECT_BATCH_SIZE_MIN,
    maximum: OBJECT_BATCH_SIZE_MAX,
    default: OBJECT_BATCH_SIZE_DEFAULT,
    description:
      'Strategy `object` only (400 with any other): how many documents form one input. The documents, in the ' +
      'order of `docIds` (a repeated id counts once, where it first comes), are cut into consecutive groups of ' +
      'this many, the last one holding the rest; each group is one crew run and one output',
  })
  @IsOptional()
  @IsInt({ message: 'must be an integer' })
  @Min(OBJECT_BATCH_SIZE_MIN)
  @Max(OBJECT_BATCH_SIZE_MAX)
  batchSize?: number;
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

const INSTANT_MESSAGE = 'must be an ISO 8601 instant with a time zone, e.g. 2026-01-31T00:00:00Z';

/** An ISO 8601 instant (see `parseInstant`): a date, a time and a zone. */
const IsInstant = () =>
  ValidateBy({
    name: 'isInstant',
    validator: {
      validate: (value: unknown) => parseInstant(value) !== undefined,
      defaultMessage: () => INSTANT_MESSAGE,
    },
  });

/** Not later than the instant in `other` (when both are instants). */
const NotLaterThan = (other: string) =>
  ValidateBy({
    name: 'notLaterThan',
    constraints: [other],
    validator: {
      validate: (value: unknown, args?: ValidationArguments) => {
        const start = parseInstant(value);
        const end = parseInstant((args?.object as Record<string, unknown>)[other]);
        return !start || !end || start <= end;
      },
      defaultMessage: () => `must not be later than ${other}`,
    },
  });

/** `a,b` and a repeated parameter (`status=a&status=b`) alike: the statuses, each once. */
function statusList({ value }: { value: unknown }): unknown {
  if (value === undefined || value === null) return value;
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) =>
    typeof v === 'string' ? v.split(',').map((s) => s.trim()) : [v],
  );
  return [...new Set(parts)];
}

/**
 * The filters of a job list (a user's, a team's): each narrows the list, and they combine (AND) with each other and
 * with paging: send the same filters with each `cursor`.
 */
export class ListJobsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    type: String,
    description: `One status, or several separated by commas (jobs in any of them): ${JOB_STATUSES.join(', ')}`,
    example: 'queued,submitted,running',
  })
  @IsOptional()
  @Transform(statusList)
  @IsIn(JOB_STATUSES, {
    each: true,
    message: `must be one or more of ${JOB_STATUSES.join(', ')}, separated by commas`,
  })
  status?: JobStatus[];

  @ApiPropertyOptional({ description: "The crew's exact name", example: 'translate' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z0-9-]{0,63}$/, { message: 'must be a crew name' })
  crew?: string;

  @ApiPropertyOptional({ enum: JOB_STRATEGIES })
  @IsOptional()
  @IsIn(JOB_STRATEGIES)
  strategy?: JobStrategy;

  @ApiPropertyOptional({
    format: 'date-time',
    description:
      'Jobs created at or after this ISO 8601 instant (with its zone: `Z` or `+01:00`); not later than ' +
      '`createdBefore`',
    example: '2026-01-01T00:00:00Z',
  })
  @IsOptional()
  @IsInstant()
  @NotLaterThan('createdBefore')
  createdAfter?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description:
      'Jobs created before this ISO 8601 instant (not at it: consecutive windows neither overlap nor leave gaps)',
    example: '2026-02-01T00:00:00Z',
  })
  @IsOptional()
  @IsInstant()
  createdBefore?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Jobs that have this document among their inputs' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a document id (UUID)' })
  docId?: string;
}

/** How the job list routes (a user's, a team's) describe their filters. */
export const LIST_JOBS_DESCRIPTION =
  'Filters narrow the list and combine (AND) with each other and with paging: `status` (one or several, ' +
  'comma-separated: any of them), `crew`, `strategy`, `createdAfter` (at or after) and `createdBefore` (before), ' +
  '`docId` (jobs with this document among their inputs). Send the same filters with each `cursor`. Each invalid ' +
  'value is a 400 naming its parameter.';

/** What a job list asks the jobs service for, beside the owner. */
export function listJobsFilters(query: ListJobsQueryDto): Omit<ListJobsRequest, 'userId' | 'teamId'> {
  return {
    limit: query.limit,
    cursor: query.cursor,
    status: query.status,
    crew: query.crew,
    strategy: query.strategy,
    createdAfter: query.createdAfter,
    createdBefore: query.createdBefore,
    docId: query.docId?.toLowerCase(),
  };
}

export class ListJobInputsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: JOB_DOCUMENT_STATUSES })
  @IsOptional()
  @IsIn(JOB_DOCUMENT_STATUSES)
  status?: JobDocumentStatus;
}
