import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  UsersDocsSubjects,
  type ApplyStorageEventsRequest,
  type ApplyStorageEventsResult,
} from '@docflow/contracts';
import { ApplyStorageEventsUseCase } from './apply-storage-events.usecase';

@Controller()
export class StorageEventsController {
  constructor(private readonly applyStorageEvents: ApplyStorageEventsUseCase) {}

  @MessagePattern(UsersDocsSubjects.storageEventsApply)
  apply(@Payload() request: ApplyStorageEventsRequest): Promise<ApplyStorageEventsResult> {
    return this.applyStorageEvents.execute(request);
  }
}
