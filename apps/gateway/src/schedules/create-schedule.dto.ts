import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDefined,
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
  MinLength,
  ValidateNested,
} from 'class-validator';
import {
  DOCUMENT_KINDS,
  JOB_STRATEGIES,
  SCHEDULE_CATCH_UP,
  SCHEDULE_EVERY,
  WEEKDAYS,
  type DocumentKind,
  type JobStrategy,
  type ScheduleCatchUp,
  type ScheduleEvery,
  type Weekday,
} from '@docflow/contracts';
import { JobOptionsDto } from '../jobs/create-job.dto';

export class ScheduleDocumentFilterDto {
  @ApiPropertyOptional({ enum: DOCUMENT_KINDS, default: 'upload' })
  @IsOptional()
  @IsIn(DOCUMENT_KINDS)
  kind?: DocumentKind;

  @ApiPropertyOptional({ description: 'An exact content type, or `type/*`', example: 'text/*' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9!#$&^_.+-]{1,127}\/([a-z0-9!#$&^_.+-]{1,127}|\*)$/i, {
    message: 'must be a content type such as text/plain or text/*',
  })
  contentType?: string;

  @ApiPropertyOptional({
    description:
      'Only documents uploaded after the slot of the last run that launched (or found nothing); the first run takes what was uploaded since the schedule was created',
  })
  @IsOptional()
  @IsBoolean()
  uploadedSinceLastRun?: boolean;
}

export class ScheduleDocumentsDto {
  @ApiPropertyOptional({ type: [String], format: 'uuid', minItems: 1, maxItems: 10000 })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10_000)
  @IsUUID('all', { each: true, message: 'each entry must be a document id (UUID)' })
  docIds?: string[];

  @ApiPropertyOptional({
    type: ScheduleDocumentFilterDto,
    description: "The user's uploaded documents that match, as of each slot",
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => ScheduleDocumentFilterDto)
  filter?: ScheduleDocumentFilterDto;
}

export class CreateScheduleDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({
    description: 'Five fields: minute hour day-of-month month day-of-week. Either `cron` or `every`.',
    example: '30 6 * * 1-5',
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  cron?: string;

  @ApiPropertyOptional({ enum: SCHEDULE_EVERY, description: 'Either `every` or `cron`' })
  @IsOptional()
  @IsIn(SCHEDULE_EVERY)
  every?: ScheduleEvery;

  @ApiPropertyOptional({
    description: 'With `every`: the time of day, `HH:MM`',
    default: '00:00',
    example: '06:30',
  })
  @IsOptional()
  @IsString()
  @Matches(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'must be a time of day HH:MM (24-hour), e.g. 09:30' })
  at?: string;

  @ApiPropertyOptional({ enum: WEEKDAYS, default: 'monday', description: 'With `every: weekly`' })
  @IsOptional()
  @IsIn(WEEKDAYS)
  dayOfWeek?: Weekday;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 31,
    default: 1,
    description: "With `every: monthly`; in shorter months, the month's last day",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(31)
  dayOfMonth?: number;

  @ApiProperty({ description: 'IANA time zone the slots are computed in', example: 'Europe/Berlin' })
  @IsString()
  @MaxLength(64)
  timezone!: string;

  @ApiProperty({ type: ScheduleDocumentsDto, description: 'Either `docIds` or `filter`' })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => ScheduleDocumentsDto)
  documents!: ScheduleDocumentsDto;

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

  @ApiPropertyOptional({
    enum: SCHEDULE_CATCH_UP,
    default: 'latest',
    description:
      'Slots that passed while no scheduler ran: `latest` runs the most recent of them once, `skip` records it as missed',
  })
  @IsOptional()
  @IsIn(SCHEDULE_CATCH_UP)
  catchUp?: ScheduleCatchUp;

  @ApiPropertyOptional({ default: true, description: 'false creates it paused' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({
    default: false,
    description:
      'The first run is due at once (its slot is the creation time); later runs follow the schedule',
  })
  @IsOptional()
  @IsBoolean()
  runNow?: boolean;
}

export class UpdateScheduleDto {
  @ApiPropertyOptional({ maxLength: 200, nullable: true, description: 'null removes the name' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string | null;

  @ApiPropertyOptional({
    description: 'false pauses (no slot runs while paused); true resumes from the first slot after now',
  })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}
