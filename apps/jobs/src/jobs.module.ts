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
import { NatsRpcClient, QuotaSource, ServiceClient } from '@docflow/messaging';
import { ObjectStorage, storageFromConfig } from '@docflow/storage';
import { ArgoWorkflowEngine, LocalWorkflowEngine, type WorkflowEngine } from '@docflow/workflow-engine';
import { Clock } from './common/clock';
import { JOBS_CONFIG, type JobsConfig } from './config';
import { jobsDataSourceOptions } from './data-source.options';
import { EraseOwnerJobsUseCase } from './deletions/erase-owner-jobs.usecase';
import { TeamDeletedConsumer } from './deletions/team-deleted.consumer';
import { UserDeletedConsumer } from './deletions/user-deleted.consumer';
import { EventsPublisher } from './events/events.publisher';
import { OutboxRelay } from './events/outbox.relay';
import { CallbackInbox } from './events/callback-inbox';
import { JobEventHistory } from './events/job-event-history';
import { JobEventsController } from './events/job-events.controller';
import { HealthController } from './health/health.controller';
import { ApplyJobEventUseCase } from './jobs/apply-job-event.usecase';
import { JobsController } from './jobs/jobs.controller';
import { JobsRepository } from './jobs/jobs.repository';
import { JobQuota } from './quota/job-quota';
import { JobsService, WORKFLOW_ENGINE } from './jobs/jobs.service';
import { StepKeysUseCase } from './jobs/step-keys.usecase';
import { scheduleControllers, scheduleProviders } from './schedules';

export function createWorkflowEngine(config: JobsConfig): WorkflowEngine {
  if (config.WORKFLOW_ENGINE === 'argo') {
    const logger = new Logger('ArgoWorkflowEngine');
    // The Kubernetes client reads the pod's service account (or $KUBECONFIG outside a cluster); the Workflow
    // is checked against Argo's schemas before each submit.
    return new ArgoWorkflowEngine({
      namespace: config.ARGO_NAMESPACE,
      templateName: config.ARGO_WORKFLOW_TEMPLATE,
      ...(config.WORKER_IMAGE ? { image: config.WORKER_IMAGE } : {}),
      onWatchError: (error) =>
        logger.warn({ msg: 'workflow watch interrupted; resuming', error: (error as Error).message }),
    });
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
    // The step logs at the service's level; its problems show at warn, the rest only when debugging.
    onOutput: (jobId, chunk, line) => {
      if (/"level":"(warn|error|fatal)"/.test(line) || !line.startsWith('{'))
        logger.warn({ msg: 'step output', jobId, chunk, line: line.slice(0, 2000) });
      else logger.debug({ msg: 'step output', jobId, chunk, line: line.slice(0, 2000) });
    },
  });
}

class JobsLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('JobsLifecycle');
  private readonly watching = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly nats: NatsRpcClient,
    @Inject(WORKFLOW_ENGINE) private readonly engine: WorkflowEngine,
    private readonly jobs: JobsService,
    private readonly dataSource: DataSource,
    @Inject(ObjectStorage) private readonly storage: ObjectStorage,
    private readonly publisher: EventsPublisher,
    private readonly outbox: OutboxRelay,
    private readonly inbox: CallbackInbox,
    private readonly deletions: UserDeletedConsumer,
    private readonly teamDeletions: TeamDeletedConsumer,
    @Inject(JOBS_CONFIG) private readonly config: JobsConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.nats.start();
    void this.prepareStream();
    this.deletions.start();
    this.teamDeletions.start();
    void this.engine
      .prepare?.()
      .catch((error: unknown) =>
        this.logger.error({ msg: 'the workflow engine could not prepare', error: (error as Error).message }),
      );
    void this.inbox.run();
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
    // Jobs left behind by a crash or a restart: at once, then on a timer (a Workflow deleted under us).
    this.recover(0).catch((error: unknown) =>
      this.logger.error({ msg: 'recovery at start-up failed', error: (error as Error).message }),
    );
    this.every(this.config.RECOVERY_SWEEP_MS, () => this.recover(60_000));
    // Events an earlier publish could not deliver.
    this.every(this.config.OUTBOX_SWEEP_MS, () => this.outbox.sweep());
  }

  private every(ms: number, work: () => Promise<unknown>): void {
    let running = false;
    const timer = setInterval(() => {
      if (running || !this.nats.isConnected()) return;
      running = true;
      work()
        .catch((error: unknown) =>
          this.logger.warn({ msg: 'periodic task failed', error: (error as Error).message }),
        )
        .finally(() => (running = false));
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  private async recover(olderThanMs: number): Promise<void> {
    const { resumed, settled } = await this.jobs.recover({ olderThanMs });
    if (resumed || settled) this.logger.log({ msg: 'unfinished jobs taken up', resumed, settled });
  }

  /** The JetStream stream of job events exists before the first job, so the gateway can open it. */
  private async prepareStream(): Promise<void> {
    for (let attempt = 0; !this.watching.signal.aborted; attempt++) {
      try {
        if (this.nats.isConnected()) {
          await this.publisher.ensureStream();
          await this.outbox.sweep();
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
    for (const timer of this.timers) clearInterval(timer);
    await Promise.all([this.deletions.stop(), this.teamDeletions.stop()]);
    await this.inbox.stop();
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
      controllers: [JobsController, JobEventsController, HealthController, ...scheduleControllers],
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
        // maxJobsPerDay, read from user-details (docs/user-details.md#quotas).
        { provide: QuotaSource, useValue: new QuotaSource(nats, { cacheMs: config.QUOTA_CACHE_MS }) },
        JobQuota,
        JobsRepository,
        EventsPublisher,
        OutboxRelay,
        JobEventHistory,
        CallbackInbox,
        ApplyJobEventUseCase,
        StepKeysUseCase,
        JobsService,
        ...scheduleProviders,
        EraseOwnerJobsUseCase,
        UserDeletedConsumer,
        TeamDeletedConsumer,
        JobsLifecycle,
      ],
    };
  }
}
