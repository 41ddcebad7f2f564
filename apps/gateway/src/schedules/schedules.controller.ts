import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  SchedulesSubjects,
  type Schedule,
  type SchedulePage,
  type ScheduleRunPage,
} from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { RequireScopes } from '../auth/scopes.decorator';
import { ErrorModel } from '../http/api-models';
import { PageQueryDto } from '../http/page-query.dto';
import { uuidParam } from '../http/validation';
import { CreateScheduleDto, UpdateScheduleDto } from './create-schedule.dto';
import { ScheduleModel, SchedulePageModel, ScheduleRunPageModel } from './schedule-models';

@ApiTags('schedules')
@ApiBearerAuth()
@ApiResponse({ status: 400, type: ErrorModel, description: 'Invalid input; `details` names each field' })
@ApiResponse({ status: 404, type: ErrorModel, description: 'Unknown user, schedule or document' })
@ApiResponse({ status: 503, type: ErrorModel, description: 'A service or the message bus is unavailable' })
@Controller('users/:user_id/schedules')
export class SchedulesController {
  constructor(private readonly services: ServiceClient) {}

  @Post()
  @RequireScopes('schedules:write')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Run a crew over documents on a schedule',
    description:
      'A five-field `cron` or `every` (daily, weekly, monthly, with `at`, `dayOfWeek`, `dayOfMonth`), in an IANA ' +
      '`timezone`; `documents` by ids or by a filter evaluated at each slot; what to run as in `POST /jobs`. ' +
      'Each slot runs once, whatever the number of replicas and restarts.',
  })
  @ApiResponse({ status: 201, type: ScheduleModel })
  @ApiResponse({ status: 409, type: ErrorModel, description: 'The user has the most schedules allowed' })
  create(
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Body() body: CreateScheduleDto,
  ): Promise<Schedule> {
    return this.services.send(SchedulesSubjects.scheduleCreate, { ...body, userId }, { timeoutMs: 10_000 });
  }

  @Get()
  @RequireScopes('schedules:read')
  @ApiOperation({ summary: "List the user's schedules, newest first" })
  @ApiResponse({ status: 200, type: SchedulePageModel })
  list(
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Query() query: PageQueryDto,
  ): Promise<SchedulePage> {
    return this.services.send(SchedulesSubjects.scheduleList, {
      userId,
      limit: query.limit,
      cursor: query.cursor,
    });
  }

  @Get(':schedule_id')
  @RequireScopes('schedules:read')
  @ApiOperation({ summary: 'A schedule with its next slot and its latest run' })
  @ApiResponse({ status: 200, type: ScheduleModel })
  get(
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Param('schedule_id', uuidParam('schedule_id')) scheduleId: string,
  ): Promise<Schedule> {
    return this.services.send(SchedulesSubjects.scheduleGet, { userId, scheduleId });
  }

  @Patch(':schedule_id')
  @RequireScopes('schedules:write')
  @ApiOperation({ summary: 'Pause, resume or rename a schedule' })
  @ApiResponse({ status: 200, type: ScheduleModel })
  update(
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Param('schedule_id', uuidParam('schedule_id')) scheduleId: string,
    @Body() body: UpdateScheduleDto,
  ): Promise<Schedule> {
    return this.services.send(SchedulesSubjects.scheduleUpdate, { ...body, userId, scheduleId });
  }

  @Delete(':schedule_id')
  @RequireScopes('schedules:write')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a schedule: no slot runs after this (jobs it already started go on)',
  })
  @ApiNoContentResponse()
  async delete(
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Param('schedule_id', uuidParam('schedule_id')) scheduleId: string,
  ): Promise<void> {
    await this.services.send(SchedulesSubjects.scheduleDelete, { userId, scheduleId }, { timeoutMs: 10_000 });
  }

  @Get(':schedule_id/runs')
  @RequireScopes('schedules:read')
  @ApiOperation({ summary: "The schedule's runs, newest first: slot, status, the jobs each launched" })
  @ApiResponse({ status: 200, type: ScheduleRunPageModel })
  runs(
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Param('schedule_id', uuidParam('schedule_id')) scheduleId: string,
    @Query() query: PageQueryDto,
  ): Promise<ScheduleRunPage> {
    return this.services.send(SchedulesSubjects.runList, {
      userId,
      scheduleId,
      limit: query.limit,
      cursor: query.cursor,
    });
  }
}
