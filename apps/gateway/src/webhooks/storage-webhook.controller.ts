import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { UsersDocsSubjects, type ApplyStorageEventsResult } from '@docflow/contracts';
import { ErrorModel, StorageEventsResultModel } from '../http/api-models';
import { ServiceClient } from '@docflow/messaging';
import { parseBucketNotification } from './bucket-notification';
import { WebhookTokenGuard } from './webhook-token.guard';

@ApiTags('private: storage webhooks')
@ApiBearerAuth()
@Controller()
@UseGuards(WebhookTokenGuard)
export class StorageWebhookController {
  constructor(private readonly services: ServiceClient) {}

  /** `webooks` is how the original design spelled the path; both are served. */
  @Post(['webhooks/docs/status', 'webooks/docs/status'])
  @HttpCode(200)
  @ApiOperation({
    summary: 'Bucket notifications (S3 / MinIO webhook target) that move documents through their states',
  })
  @ApiBody({
    description:
      'S3 / MinIO event notification: `{ Records: [{ eventName, s3: { bucket: { name }, object: { key, size, eTag } } }] }`',
  })
  @ApiResponse({ status: 200, type: StorageEventsResultModel })
  @ApiResponse({
    status: 400,
    type: ErrorModel,
    description: '`VALIDATION_FAILED`: not a bucket notification',
  })
  @ApiResponse({
    status: 401,
    type: ErrorModel,
    description: '`UNAUTHENTICATED`: no `Authorization: Bearer <STORAGE_WEBHOOK_TOKEN>`, or another token',
  })
  @ApiResponse({
    status: 503,
    type: ErrorModel,
    description: '`SERVICE_UNAVAILABLE`: users-docs is unavailable',
  })
  status(@Body() body: unknown): Promise<ApplyStorageEventsResult> {
    const records = parseBucketNotification(body);
    return this.services.send(UsersDocsSubjects.storageEventsApply, { records });
  }
}
