import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { JobsSubjects, type JobEventPage, type ListJobEventsRequest } from '@docflow/contracts';
import { JobEventHistory } from './job-event-history';

/** A job's stored events, paged: the SSE history the gateway serves once JetStream no longer holds it. */
@Controller()
export class JobEventsController {
  constructor(private readonly history: JobEventHistory) {}

  @MessagePattern(JobsSubjects.jobEvents)
  list(@Payload() request: ListJobEventsRequest): Promise<JobEventPage> {
    return this.history.list(request);
  }
}
