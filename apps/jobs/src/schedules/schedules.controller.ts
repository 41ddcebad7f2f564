import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  SchedulesSubjects,
  type CreateScheduleRequest,
  type ListScheduleRunsRequest,
  type ListSchedulesRequest,
  type Schedule,
  type SchedulePage,
  type ScheduleRef,
  type ScheduleRunPage,
  type UpdateScheduleRequest,
} from '@docflow/contracts';
import { SchedulesService } from './schedules.service';

@Controller()
export class SchedulesController {
  constructor(private readonly schedules: SchedulesService) {}

  @MessagePattern(SchedulesSubjects.scheduleCreate)
  create(@Payload() request: CreateScheduleRequest): Promise<Schedule> {
    return this.schedules.create(request);
  }

  @MessagePattern(SchedulesSubjects.scheduleGet)
  get(@Payload() request: ScheduleRef): Promise<Schedule> {
    return this.schedules.get(request);
  }

  @MessagePattern(SchedulesSubjects.scheduleList)
  list(@Payload() request: ListSchedulesRequest): Promise<SchedulePage> {
    return this.schedules.list(request);
  }

  @MessagePattern(SchedulesSubjects.scheduleUpdate)
  update(@Payload() request: UpdateScheduleRequest): Promise<Schedule> {
    return this.schedules.update(request);
  }

  @MessagePattern(SchedulesSubjects.scheduleDelete)
  async delete(@Payload() request: ScheduleRef): Promise<{ deleted: true }> {
    await this.schedules.delete(request);
    return { deleted: true };
  }

  @MessagePattern(SchedulesSubjects.runList)
  runs(@Payload() request: ListScheduleRunsRequest): Promise<ScheduleRunPage> {
    return this.schedules.listRuns(request);
  }
}
