import {
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createServiceDataSource } from '@docflow/database';
import { NatsRpcClient, ServiceClient } from '@docflow/messaging';
import { ObjectStorage, storageFromConfig } from '@docflow/storage';
import { LocalWorkflowEngine, type WorkflowEngine } from '@docflow/workflow-engine';
import { Clock } from './common/clock';
import { JOBS_CONFIG, type JobsConfig } from './config';
import { jobsDataSourceOptions } from './data-source.options';
import { EventsPublisher } from './events/events.publisher';
import { HealthController } from './health/health.controller';
import { ApplyJobEventUseCase } from './jobs/apply-job-event.usecase';
import { JobsController } from './jobs/jobs.controller';
import { JobsRepository } from './jobs/jobs.repository';
import { JobsService, WORKFLOW_ENGINE } from './jobs/jobs.service';
import { scheduleControllers, scheduleProviders } from './schedules';

export function createWorkflowEngine(config: JobsConfig): WorkflowEngine {
  if (config.WORKFLOW_ENGINE === 'argo') {
    throw new Error('WORKFLOW_ENGINE=argo: the Argo driver is not wired into the jobs service yet');
  }
  const logger = new Logger('LocalWorkflowEngine');
  return new LocalWorkflowEngine({
    workerEntry: config.LOCAL_WORKER_ENTRY,
    concurrency: config.LOCAL_ENGINE_CONCURRENCY,
    maxOldSpaceMb: config.LOCAL_WORKER_MAX_OLD_SPACE_MB,
    // Shorter than the launcher's grace for the jobs service, so steps end before it is killed.
    stopGraceMs: 3_000,
    env: {
      S3_BUCKET: config.S3_BUCKET,
      S3_REGION: config.S3_REGION,
      ...(config.S3_ENDPOINT ? { S3_ENDPOINT: config.S3_ENDPOINT } : {}),
      ...(config.S3_ACCESS_KEY_ID ? { S3_ACCESS_KEY_ID: config.S3_ACCESS_KEY_ID } : {}),
      ...(config.S3_SECRET_ACCESS_KEY ? { S3_SECRET_ACCESS_KEY: config.S3_SECRET_ACCESS_KEY } : {}),
      S3_FORCE_PATH_STYLE: String(config.S3_FORCE_PATH_STYLE),
      DOCFLOW_CALLBACK_URL: config.STEP_CALLBACK_URL,
      ...(config.PROVIDER_API_KEY ? { DOCFLOW_PROVIDER_API_KEY: config.PROVIDER_API_KEY } : {}),
      ...(config.PROVIDER_BASE_URL ? { DOCFLOW_PROVIDER_BASE_URL: config.PROVIDER_BASE_URL } : {}),
      LOG_LEVEL: config.LOG_LEVEL,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    onOutput: (jobId, chunk, line) => {
      if (/"level":"(warn|error|fatal)"/.test(line) || !line.startsWith('{'))
        logger.warn({ msg: 'step output', jobId, chunk, line: line.slice(0, 2000) });
    },
  });
}

class JobsLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('JobsLifecycle');
  private readonly watching = new AbortController();

  constructor(
    private readonly nats: NatsRpcClient,
    @Inject(WORKFLOW_ENGINE) private readonly engine: WorkflowEngine,
    private readonly jobs: JobsService,
    private readonly dataSource: DataSource,
    @Inject(ObjectStorage) private readonly storage: ObjectStorage,
    private readonly publisher: EventsPublisher,
  ) {}

  onApplicationBootstrap(): void {
    this.nats.start();
    void this.prepareStream();
    void this.engine
      .watch((status) => {
        this.jobs.reconcile(status).catch((error: unknown) =>
          this.logger.error({
            msg: 'reconciliation failed',
            jobId: status.jobId,
            error: (error as Error).message,
          }),
        );
      }, this.watching.signal)
      .catch((error: unknown) =>
        this.logger.error({ msg: 'workflow watch ended', error: (error as Error).message }),
      );
  }

  /** The JetStream stream of job events exists before the first job, so the gateway can open it. */
  private async prepareStream(): Promise<void> {
    for (let attempt = 0; !this.watching.signal.aborted; attempt++) {
      try {
        if (this.nats.isConnected()) {
          await this.publisher.ensureStream();
          return;
        }
      } catch (error) {
        if (attempt % 20 === 0)
          this.logger.warn({ msg: 'JetStream not ready yet', error: (error as Error).message });
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.watching.abort();
    if (this.engine instanceof LocalWorkflowEngine) await this.engine.close();
    await this.nats.close();
    this.storage.destroy();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

@Module({})
export class JobsModule {
  static forRoot(config: JobsConfig, engine: WorkflowEngine = createWorkflowEngine(config)): DynamicModule {
    const nats = new NatsRpcClient({ servers: config.NATS_URL, name: 'jobs', defaultTimeoutMs: 5_000 });
    return {
      module: JobsModule,
      controllers: [JobsController, HealthController, ...scheduleControllers],
      providers: [
        { provide: JOBS_CONFIG, useValue: config },
        {
          provide: DataSource,
          useFactory: async () => createServiceDataSource(jobsDataSourceOptions(config)).initialize(),
        },
        {
          provide: ObjectStorage,
          useFactory: () => storageFromConfig(config, { presignCacheSize: 0 }),
        },
        { provide: NatsRpcClient, useValue: nats },
        { provide: ServiceClient, useValue: nats },
        { provide: WORKFLOW_ENGINE, useValue: engine },
        Clock,
        JobsRepository,
        EventsPublisher,
        ApplyJobEventUseCase,
        JobsService,
        JobsLifecycle,
        ...scheduleProviders,
      ],
    };
  }
}
