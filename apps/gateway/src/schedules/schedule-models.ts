// Response shapes of the schedules API for the OpenAPI description. They mirror @docflow/contracts.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  JOB_STRATEGIES,
  SCHEDULE_CATCH_UP,
  SCHEDULE_EVERY,
  SCHEDULE_RUN_STATUSES,
  WEEKDAYS,
} from '@docflow/contracts';
import { JobOptionsDto } from '../jobs/create-job.dto';
import { ScheduleDocumentsDto } from './create-schedule.dto';

export class ScheduleRunModel {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) scheduleId!: string;
  @ApiProperty({ format: 'date-time', description: 'The slot this run is for' }) slotAt!: string;
  @ApiProperty({
    enum: SCHEDULE_RUN_STATUSES,
    description:
      '`pending` (claimed, jobs being created), `launched`, `skipped` (no document matched), `failed` (see error), `missed` (catchUp: skip)',
  })
  status!: string;
  @ApiProperty({ type: [String], format: 'uuid' }) jobIds!: string[];
  @ApiPropertyOptional() documentCount?: number;
  @ApiPropertyOptional() error?: string;
  @ApiProperty() attempts!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) finishedAt?: string;
}

export class ScheduleDocumentsModel extends ScheduleDocumentsDto {
  @ApiPropertyOptional({
    description: 'With `docIds`: how many there are (a view lists the first 1,000, 20 in lists)',
  })
  docCount?: number;
  @ApiPropertyOptional({ description: 'With `docIds`: true when the view lists only the first ones' })
  truncated?: boolean;
}

export class ScheduleModel {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiPropertyOptional() name?: string;
  @ApiPropertyOptional() cron?: string;
  @ApiPropertyOptional({ enum: SCHEDULE_EVERY }) every?: string;
  @ApiPropertyOptional({ example: '06:30' }) at?: string;
  @ApiPropertyOptional({ enum: WEEKDAYS }) dayOfWeek?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 31 }) dayOfMonth?: number;
  @ApiProperty({ example: 'Europe/Berlin' }) timezone!: string;
  @ApiProperty({ type: ScheduleDocumentsModel }) documents!: ScheduleDocumentsModel;
  @ApiProperty() crew!: string;
  @ApiProperty({ enum: JOB_STRATEGIES }) strategy!: string;
  @ApiProperty({ type: JobOptionsDto }) options!: JobOptionsDto;
  @ApiProperty({ enum: SCHEDULE_CATCH_UP }) catchUp!: string;
  @ApiProperty() enabled!: boolean;
  @ApiPropertyOptional({ format: 'date-time', description: 'The next slot; absent while paused' })
  nextRunAt?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'The slot of the latest run' }) lastRunAt?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'The job the latest launched run started (its last)' })
  lastJobId?: string;
  @ApiPropertyOptional({ type: ScheduleRunModel }) lastRun?: ScheduleRunModel;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class SchedulePageModel {
  @ApiProperty({ type: [ScheduleModel] }) items!: ScheduleModel[];
  @ApiPropertyOptional() nextCursor?: string;
}

export class ScheduleRunPageModel {
  @ApiProperty({ type: [ScheduleRunModel] }) items!: ScheduleRunModel[];
  @ApiPropertyOptional() nextCursor?: string;
}
