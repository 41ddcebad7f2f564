// What the jobs service registers for schedules.
import { LaunchScheduledRunUseCase } from './launch-scheduled-run.usecase';
import { Scheduler } from './scheduler';
import { SchedulesController } from './schedules.controller';
import { SchedulesRepository } from './schedules.repository';
import { SchedulesService } from './schedules.service';

export const scheduleControllers = [SchedulesController];
export const scheduleProviders = [
  SchedulesRepository,
  LaunchScheduledRunUseCase,
  Scheduler,
  SchedulesService,
];
export { Scheduler };
