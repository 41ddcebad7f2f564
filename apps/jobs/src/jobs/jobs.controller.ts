import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  JobsSubjects,
  type CreateJobRequest,
  type Job,
  type JobInputPage,
  type JobPage,
  type ListJobInputsRequest,
  type JobRef,
  type ListJobsRequest,
  type RecordEventRequest,
  type RecordEventResult,
  type ResolvedKey,
  type StepProviderKeyRequest,
} from '@docflow/contracts';
import { ApplyJobEventUseCase } from './apply-job-event.usecase';
import { JobsService } from './jobs.service';
import { StepKeysUseCase } from './step-keys.usecase';

@Controller()
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly events: ApplyJobEventUseCase,
    private readonly keys: StepKeysUseCase,
  ) {}

  @MessagePattern(JobsSubjects.jobCreate)
  create(@Payload() request: CreateJobRequest): Promise<Job> {
    return this.jobs.create(request);
  }

  @MessagePattern(JobsSubjects.jobGet)
  get(@Payload() request: JobRef): Promise<Job> {
    return this.jobs.get(request);
  }

  @MessagePattern(JobsSubjects.jobList)
  list(@Payload() request: ListJobsRequest): Promise<JobPage> {
    return this.jobs.list(request);
  }

  @MessagePattern(JobsSubjects.jobInputs)
  inputs(@Payload() request: ListJobInputsRequest): Promise<JobInputPage> {
    return this.jobs.inputs(request);
  }

  @MessagePattern(JobsSubjects.jobCancel)
  cancel(@Payload() request: JobRef): Promise<Job> {
    return this.jobs.cancel(request);
  }

  @MessagePattern(JobsSubjects.stepProviderKey)
  providerKey(@Payload() request: StepProviderKeyRequest): Promise<ResolvedKey> {
    return this.keys.providerKey(request);
  }

  @MessagePattern(JobsSubjects.eventRecord)
  record(@Payload() request: RecordEventRequest): Promise<RecordEventResult> {
    return this.events.record(request);
  }
}
