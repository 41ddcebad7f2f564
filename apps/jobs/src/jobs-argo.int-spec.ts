// The jobs service with the argo driver, against a local server that speaks the Kubernetes API for Workflows
// (and validates every body against Argo's CRD schema), the real PostgreSQL, NATS with JetStream and an S3
// server. users-docs is played by a NATS responder. The test plays the Argo controller: it moves each Workflow
// through its phases and checks that the job follows, that a cancel patches `spec.shutdown`, and that a jobs
// service started after a Workflow vanished settles the job.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport } from '@nestjs/microservices';
import type { KubeConfig } from '@kubernetes/client-node';
import { connect, consumerOpts, type NatsConnection, type Subscription } from 'nats';
import { Client } from 'pg';
import { parse } from 'yaml';
import {
  JOB_EVENTS_STREAM,
  JobsSubjects,
  KeyVaultSubjects,
  signCallback,
  type CreateGrantRequest,
  type Grant,
  type ResolveKeyForJobRequest,
  type ResolvedKey,
  jobEventsSubject,
  UsersDocsSubjects,
  jobOutputPrefix,
  type DocumentSummary,
  type Job,
  type JobInputPage,
  type RegisterOutputRequest,
  type ResolvedDocument,
} from '@docflow/contracts';
import { createServiceDataSource, runMigrations } from '@docflow/database';
import { LocalS3Server, createTestEnvironment, waitFor, type TestEnvironment } from '@docflow/local-platform';
import { NatsRpcClient, RequestContextInterceptor, RpcErrorFilter } from '@docflow/messaging';
import { ObjectStorage, storageFromConfig } from '@docflow/storage';
import { ArgoValidator, ArgoWorkflowEngine, workflowNameFor } from '@docflow/workflow-engine';
import { FakeKubeApi, type FakeKubeObject } from '@docflow/workflow-engine/testing';
import { loadJobsConfig, type JobsConfig } from './config';
import { jobsDataSourceOptions } from './data-source.options';
import { JobsModule } from './jobs.module';

const NAMESPACE = 'docflow-test';
const ROOT = resolve(__dirname, '../../..');

/** The keys of the ConfigMap docflow-semaphores as the chart (workflows.semaphores) and k8s/base create it. */
function deployedSemaphoreKeys(): { chart: string[]; kustomize: string[] } {
  const values = parse(readFileSync(resolve(ROOT, 'charts/docflow/values.yaml'), 'utf8')) as {
    workflows: { semaphores: Record<string, string> };
  };
  const kustomization = parse(readFileSync(resolve(ROOT, 'k8s/base/kustomization.yaml'), 'utf8')) as {
    configMapGenerator: { name: string; literals: string[] }[];
  };
  const literals = kustomization.configMapGenerator.find((g) => g.name === 'docflow-semaphores')!.literals;
  return {
    chart: Object.keys(values.workflows.semaphores),
    kustomize: literals.map((literal) => literal.slice(0, literal.indexOf('='))),
  };
}

// This file's own dynamic import (see ArgoWorkflowEngineOptions.kubernetesClient).
const importKubernetesClient = new Function('return import("@kubernetes/client-node")') as () => Promise<
  typeof import('@kubernetes/client-node')
>;
let k8s: typeof import('@kubernetes/client-node');

describe('jobs on the argo driver', () => {
  let env: TestEnvironment;
  let s3: LocalS3Server;
  let fake: FakeKubeApi;
  let kubeConfig: KubeConfig;
  let validator: ArgoValidator;
  let config: JobsConfig;
  let storage: ObjectStorage;
  let nc: NatsConnection;
  let client: NatsRpcClient;
  let usersDocs: Subscription[] = [];
  let app: INestMicroservice | undefined;
  const userId = randomUUID();
  /** A user with a semaphore key of its own (the ConfigMap has it, SEMAPHORE_KEYS lists it). */
  const ownKeyUser = randomUUID();
  /** A team with a semaphore key of its own: its jobs share it, whichever member starts them. */
  const ownKeyTeam = randomUUID();
  const semaphoreKeys = deployedSemaphoreKeys();
  const documents = new Map<string, ResolvedDocument>();
  const registered: RegisterOutputRequest[] = [];
  const USER_KEY_ID = randomUUID();
  const vault = { grants: new Map<string, string>(), revoked: [] as string[] };

  const startJobs = async () => {
    const engine = new ArgoWorkflowEngine({
      kubernetesClient: k8s,
      namespace: NAMESPACE,
      kubeConfig,
      validator,
      watchBackoff: { initialMs: 20, maxMs: 200 },
    });
    app = await NestFactory.createMicroservice(JobsModule.forRoot(config, engine), {
      transport: Transport.NATS,
      options: { servers: [env.natsUrl], queue: 'jobs' },
      logger: false,
    });
    app.useGlobalFilters(new RpcErrorFilter());
    app.useGlobalInterceptors(new RequestContextInterceptor());
    await app.listen();
  };

  const job = (jobId: string) => client.send<Job>(JobsSubjects.jobGet, { userId, jobId });
  const until = (jobId: string, check: (j: Job) => boolean, description: string) =>
    waitFor(async () => check(await job(jobId)), { timeoutMs: 10_000, description });

  /** A user's documents, as users-docs would resolve them. */
  const newDocs = (n: number, owner = userId) =>
    Array.from({ length: n }, (_, i) => {
      const docId = randomUUID();
      documents.set(docId, {
        docId,
        name: `doc-${i}.txt`,
        contentType: 'text/plain',
        size: 10,
        key: `users/${owner}/docs/${docId}`,
      });
      return docId;
    });

  beforeAll(async () => {
    env = await createTestEnvironment('jobsargo');
    s3 = new LocalS3Server({ port: 0, directory: `${env.directory}/s3`, bucket: 'docflow' });
    const endpoint = await s3.start();
    validator = ArgoValidator.forDirectory();
    fake = await new FakeKubeApi({ validator, token: 't' }).start();
    k8s = await importKubernetesClient();
    kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'fake', server: fake.url, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
      currentContext: 'c',
    });
    config = loadJobsConfig({
      DATABASE_URL: env.databaseUrl,
      NATS_URL: env.natsUrl,
      // No user-details here: quotas have their own int-spec.
      QUOTAS: 'off',
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      S3_FORCE_PATH_STYLE: 'true',
      WORKFLOW_ENGINE: 'argo',
      ARGO_NAMESPACE: NAMESPACE,
      // The chart's keys, and one more as a ConfigMap with a key for that user would have.
      SEMAPHORE_KEYS: [...semaphoreKeys.chart, ownKeyUser, ownKeyTeam].join(','),
      OUTBOX_SWEEP_MS: '200',
      LOG_LEVEL: 'silent',
    });
    storage = storageFromConfig(config, { presignCacheSize: 0 });
    const migrations = createServiceDataSource(jobsDataSourceOptions(config));
    await runMigrations(migrations);
    await migrations.destroy();

    // users-docs, played over NATS in Nest's packet format.
    nc = await connect({ servers: env.natsUrl });
    const respond = <T, R>(subject: string, handler: (data: T) => R) => {
      const sub = nc.subscribe(subject, {
        callback: (_err, msg) => {
          const packet = msg.json<{ id: string; data: T }>();
          try {
            msg.respond(JSON.stringify({ id: packet.id, response: handler(packet.data), isDisposed: true }));
          } catch (error) {
            msg.respond(JSON.stringify({ id: packet.id, err: error, isDisposed: true }));
          }
        },
      });
      usersDocs.push(sub);
    };
    respond<{ docIds: string[] }, ResolvedDocument[]>(UsersDocsSubjects.documentResolve, (data) =>
      data.docIds.map((id) => documents.get(id)!),
    );
    respond<RegisterOutputRequest, DocumentSummary>(UsersDocsSubjects.documentRegisterOutput, (data) => {
      registered.push(data);
      const now = new Date().toISOString();
      return {
        id: randomUUID(),
        userId: data.userId,
        name: data.name,
        kind: 'output',
        jobId: data.jobId,
        sourceDocIds: data.sourceDocIds,
        contentType: data.contentType,
        size: data.size,
        status: 'uploaded',
        createdAt: now,
        updatedAt: now,
      };
    });
    // The key vault, played too: one key of the user, grants per job.
    respond<CreateGrantRequest, Grant>(KeyVaultSubjects.grantCreate, (data) => {
      if (data.keyId !== USER_KEY_ID || data.ownerId !== userId)
        throw { code: 'NOT_FOUND', message: 'No such key' };
      vault.grants.set(data.jobId, data.keyId);
      return { jobId: data.jobId, keyId: data.keyId, provider: 'openai', expiresAt: data.expiresAt };
    });
    respond<ResolveKeyForJobRequest, ResolvedKey>(KeyVaultSubjects.keyResolveForJob, (data) => {
      if (vault.grants.get(data.jobId) !== data.keyId) throw { code: 'NOT_FOUND', message: 'No such key' };
      return { keyId: data.keyId, provider: 'openai', key: 'sk-the-users-own-key-0123456789' };
    });
    respond<{ jobId: string }, { revoked: number }>(KeyVaultSubjects.grantRevoke, (data) => {
      vault.revoked.push(data.jobId);
      return { revoked: Number(vault.grants.delete(data.jobId)) };
    });
    client = new NatsRpcClient({ servers: env.natsUrl, name: 'test', defaultTimeoutMs: 5_000 });
    client.start();
    await waitFor(() => client.isConnected(), { description: 'NATS' });
    await startJobs();
  });

  afterAll(async () => {
    await app?.close();
    for (const sub of usersDocs) sub.unsubscribe();
    usersDocs = [];
    await client?.close();
    await nc?.close();
    storage?.destroy();
    await fake?.stop();
    await s3?.stop();
    await env?.close();
  });

  it('has migrations that match the entities exactly (no schema drift)', async () => {
    const dataSource = await createServiceDataSource(jobsDataSourceOptions(config)).initialize();
    try {
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
      expect(await dataSource.showMigrations()).toBe(false);
    } finally {
      await dataSource.destroy();
    }
  });

  it('keeps events in the outbox while JetStream refuses them, and publishes them in order later', async () => {
    const jsm = await nc.jetstreamManager();
    await waitFor(
      async () =>
        await jsm.streams.info(JOB_EVENTS_STREAM).then(
          () => true,
          () => false,
        ),
      {
        description: 'the job events stream',
      },
    );
    await jsm.streams.delete(JOB_EVENTS_STREAM);
    const created = await client.send<Job>(JobsSubjects.jobCreate, { userId, docIds: newDocs(1) });
    const name = workflowNameFor(created.id);
    fake.setPhase(NAMESPACE, name, 'Running');
    fake.setPhase(NAMESPACE, name, 'Failed', { message: 'boom' });
    await until(created.id, (j) => j.status === 'failed', 'the job to fail');
    // Stored, committed, not published yet? The sweep recreates the stream and publishes them; either way, in
    // the end every event is in the stream once, in the order it was stored.
    const pg = new Client({ connectionString: env.databaseUrl });
    await pg.connect();
    try {
      await waitFor(
        async () =>
          (
            await pg.query('SELECT count(*)::int AS n FROM jobs.job_events WHERE job_id = $1 AND pending', [
              created.id,
            ])
          ).rows[0].n === 0,
        { timeoutMs: 10_000, description: 'the outbox to be drained' },
      );
      const stored = (
        await pg.query<{ event_id: string }>(
          'SELECT event_id FROM jobs.job_events WHERE job_id = $1 ORDER BY seq',
          [created.id],
        )
      ).rows.map((r) => r.event_id);
      expect(stored).toEqual([
        `${created.id}:job_started`,
        `${created.id}:reconciled:${created.docIds[0]}:doc_failed`,
        `${created.id}:job_failed`,
      ]);
      const streamed: string[] = [];
      const options = consumerOpts();
      options.orderedConsumer();
      options.deliverAll();
      const sub = await nc.jetstream().subscribe(jobEventsSubject(created.id), options);
      for await (const message of sub) {
        streamed.push(message.json<{ id: string }>().id);
        if (message.info.pending === 0) break;
      }
      sub.unsubscribe();
      expect(streamed).toEqual(stored);
    } finally {
      await pg.end();
    }
  });

  it('submits a valid Workflow and follows it: Pending → Running → Succeeded settles every input', async () => {
    const docIds = newDocs(2);
    const created = await client.send<Job>(JobsSubjects.jobCreate, { userId, docIds });
    expect(created.status).toBe('submitted');
    const name = workflowNameFor(created.id);
    const workflow = fake.workflow(NAMESPACE, name)!;
    expect(workflow.metadata.labels).toMatchObject({ 'docflow.io/job-id': created.id });
    // Ids and keys only: never the callback secret (it is in the job's own Secret).
    const pg = new Client({ connectionString: env.databaseUrl });
    await pg.connect();
    const { callback_secret: secret } = (
      await pg.query('SELECT callback_secret FROM jobs.jobs WHERE id = $1', [created.id])
    ).rows[0] as { callback_secret: string };
    await pg.end();
    expect(JSON.stringify(workflow)).not.toContain(secret);
    expect(fake.secret(NAMESPACE, name)).toMatchObject({ stringData: { 'callback-secret': secret } });

    fake.setPhase(NAMESPACE, name, 'Pending');
    fake.setPhase(NAMESPACE, name, 'Running');
    await until(created.id, (j) => j.status === 'running', 'the job to run');

    // The step finished the first input (its sidecar is the commit marker); the second left nothing.
    const prefix = jobOutputPrefix(userId, created.id);
    await storage.put(`${prefix}${docIds[0]}.md`, '# summary', 'text/markdown');
    await storage.put(
      `${prefix}${docIds[0]}.json`,
      JSON.stringify({
        outputKey: `${prefix}${docIds[0]}.md`,
        outputBytes: 9,
        usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 },
      }),
      'application/json',
    );
    fake.setPhase(NAMESPACE, name, 'Succeeded');
    await until(created.id, (j) => j.status === 'completed_with_errors', 'the job to be settled');
    const settled = await job(created.id);
    expect(Object.fromEntries(settled.documents.map((d) => [d.docId, d.status]))).toEqual({
      [docIds[0]!]: 'completed',
      [docIds[1]!]: 'failed',
    });
    expect(settled.usage.totalTokens).toBe(5);
    expect(registered.filter((r) => r.jobId === created.id).map((r) => r.key)).toEqual([
      `${prefix}${docIds[0]}.md`,
    ]);
    // A late phase change does not move a finished job.
    fake.setPhase(NAMESPACE, name, 'Failed');
    await new Promise((r) => setTimeout(r, 300));
    expect((await job(created.id)).status).toBe('completed_with_errors');
  });

  it("takes a semaphore key the ConfigMap has: `default`, or the owner's own key when listed (per owner: the team for team jobs, the user otherwise)", async () => {
    const parameter = (workflow: FakeKubeObject) =>
      (
        workflow.spec as { arguments: { parameters: { name: string; value: string }[] } }
      ).arguments.parameters.find((p) => p.name === 'concurrency-key')?.value;
    const plain = await client.send<Job>(JobsSubjects.jobCreate, { userId, docIds: newDocs(1) });
    const key = parameter(fake.workflow(NAMESPACE, workflowNameFor(plain.id))!);
    // Argo fails a step whose semaphore key the rendered ConfigMap does not have.
    expect(semaphoreKeys.chart).toContain(key);
    expect(semaphoreKeys.kustomize).toContain(key);

    const own = await client.send<Job>(JobsSubjects.jobCreate, {
      userId: ownKeyUser,
      docIds: newDocs(1, ownKeyUser),
    });
    expect(parameter(fake.workflow(NAMESPACE, workflowNameFor(own.id))!)).toBe(ownKeyUser);
    // A team's job takes the team's key, even when its member has a key of their own.
    const teams = await client.send<Job>(JobsSubjects.jobCreate, {
      userId: ownKeyUser,
      teamId: ownKeyTeam,
      docIds: newDocs(1, ownKeyUser),
    });
    expect(parameter(fake.workflow(NAMESPACE, workflowNameFor(teams.id))!)).toBe(ownKeyTeam);
    await client.send(JobsSubjects.jobCancel, { userId, jobId: plain.id });
    await client.send(JobsSubjects.jobCancel, { userId: ownKeyUser, jobId: own.id });
    await client.send(JobsSubjects.jobCancel, { userId: ownKeyUser, teamId: ownKeyTeam, jobId: teams.id });
  });

  it('takes 10,000 documents: every reply fits NATS, the view lists 1,000, the inputs page through all', async () => {
    const docIds = newDocs(10_000);
    const created = await client.send<Job>(JobsSubjects.jobCreate, { userId, docIds }, { timeoutMs: 60_000 });
    expect(created).toMatchObject({
      status: 'submitted',
      documentCount: 10_000,
      inputCount: 10_000,
      truncated: true,
    });
    expect(created.documents).toHaveLength(1_000);
    expect(created.docIds).toEqual(docIds.slice(0, 1_000));
    // 150 steps at most, however large the job.
    const workflow = fake.workflow(NAMESPACE, workflowNameFor(created.id))!;
    const parameters = (workflow.spec as { arguments: { parameters: { name: string; value: string }[] } })
      .arguments.parameters;
    const manifestKey = parameters.find((p) => p.name === 'manifest-key')!.value;
    const manifest = JSON.parse(
      (await storage.getBytes(manifestKey, 64 * 1024 * 1024))!.toString('utf8'),
    ) as {
      chunks: unknown[];
    };
    expect(manifest.chunks).toHaveLength(150);
    expect(JSON.stringify(workflow).length).toBeLessThan(4_096);
    const listed = await client.send<{ items: Job[] }>(JobsSubjects.jobList, { userId, limit: 5 });
    expect(listed.items.find((j) => j.id === created.id)!.documents).toHaveLength(20);

    const seen = new Set<string>();
    const chunks = new Set<number>();
    let cursor: string | undefined;
    do {
      const page: JobInputPage = await client.send(JobsSubjects.jobInputs, {
        userId,
        jobId: created.id,
        limit: 100,
        ...(cursor ? { cursor } : {}),
      });
      for (const input of page.items) {
        seen.add(input.inputId);
        chunks.add(input.chunk);
      }
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(new Set(docIds));
    expect(chunks.size).toBe(150);
    await expect(
      client.send(JobsSubjects.jobInputs, { userId, jobId: created.id, cursor: 'nope' }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'cursor' }] });
    await expect(
      client.send(JobsSubjects.jobInputs, { userId: randomUUID(), jobId: created.id }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await client.send(JobsSubjects.jobCancel, { userId, jobId: created.id });
  }, 120_000);

  it("grants the job the user's stored key, hands it to the job's signed step only, and revokes it at the end", async () => {
    await expect(
      client.send(JobsSubjects.jobCreate, {
        userId,
        docIds: newDocs(1),
        options: { apiKeyId: randomUUID() },
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND', details: [{ field: 'options.apiKeyId' }] });
    const created = await client.send<Job>(JobsSubjects.jobCreate, {
      userId,
      docIds: newDocs(1),
      options: { apiKeyId: USER_KEY_ID },
    });
    expect(vault.grants.get(created.id)).toBe(USER_KEY_ID);
    // The manifest names the key; the Workflow does not even do that.
    const manifest = JSON.parse(
      (await storage.getBytes(`users/${userId}/jobs/${created.id}/manifest.json`, 1_000_000))!.toString(
        'utf8',
      ),
    ) as { apiKeyId?: string };
    expect(manifest.apiKeyId).toBe(USER_KEY_ID);
    expect(JSON.stringify(fake.workflow(NAMESPACE, workflowNameFor(created.id)))).not.toContain(USER_KEY_ID);

    const pg = new Client({ connectionString: env.databaseUrl });
    await pg.connect();
    const { callback_secret: secret } = (
      await pg.query('SELECT callback_secret FROM jobs.jobs WHERE id = $1', [created.id])
    ).rows[0] as { callback_secret: string };
    await pg.end();
    const ask = (keyId: string, signWith = secret) => {
      const body = JSON.stringify({ keyId });
      const timestamp = Math.floor(Date.now() / 1000);
      return client.send<ResolvedKey>(JobsSubjects.stepProviderKey, {
        jobId: created.id,
        body,
        timestamp: String(timestamp),
        signature: signCallback(signWith, timestamp, body),
      });
    };
    await expect(ask(USER_KEY_ID)).resolves.toMatchObject({ key: 'sk-the-users-own-key-0123456789' });
    await expect(ask(USER_KEY_ID, 'not-the-job-secret')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(ask(randomUUID())).rejects.toMatchObject({ code: 'NOT_FOUND' });

    await client.send(JobsSubjects.jobCancel, { userId, jobId: created.id });
    await waitFor(() => vault.revoked.includes(created.id), { description: 'the grant to be revoked' });
    await expect(ask(USER_KEY_ID)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('follows a failed Workflow: the job fails', async () => {
    const created = await client.send<Job>(JobsSubjects.jobCreate, { userId, docIds: newDocs(1) });
    const name = workflowNameFor(created.id);
    fake.setPhase(NAMESPACE, name, 'Running');
    fake.setPhase(NAMESPACE, name, 'Failed', { message: 'child failed' });
    await until(created.id, (j) => j.status === 'failed', 'the job to fail');
    expect((await job(created.id)).documents[0]!.error).toContain('child failed');
  });

  it('cancels: merge-patches spec.shutdown Stop and the job ends cancelled', async () => {
    const created = await client.send<Job>(JobsSubjects.jobCreate, { userId, docIds: newDocs(1) });
    const name = workflowNameFor(created.id);
    fake.setPhase(NAMESPACE, name, 'Running');
    const cancelled = await client.send<Job>(JobsSubjects.jobCancel, { userId, jobId: created.id });
    expect(cancelled.status).toBe('cancelled');
    expect((fake.workflow(NAMESPACE, name)!.spec as { shutdown?: string }).shutdown).toBe('Stop');
    expect(
      fake.requests.some(
        (r) =>
          r.method === 'PATCH' &&
          r.path.endsWith(`/workflows/${name}`) &&
          /merge-patch/.test(r.contentType ?? ''),
      ),
    ).toBe(true);
    // The stopped workflow ends Failed; the job stays cancelled.
    fake.setPhase(NAMESPACE, name, 'Failed', { message: 'Stopped with strategy Stop' });
    await new Promise((r) => setTimeout(r, 300));
    expect((await job(created.id)).status).toBe('cancelled');
  });

  it('after a restart, settles a job whose Workflow vanished while the service was down', async () => {
    const created = await client.send<Job>(JobsSubjects.jobCreate, { userId, docIds: newDocs(1) });
    const name = workflowNameFor(created.id);
    fake.setPhase(NAMESPACE, name, 'Running');
    await until(created.id, (j) => j.status === 'running', 'the job to run');
    await app!.close();
    app = undefined;
    fake.deleteWorkflow(NAMESPACE, name);
    await startJobs();
    await until(created.id, (j) => j.status === 'failed', 'the job to be settled after the restart');
    expect((await job(created.id)).documents[0]!.error).toContain('no longer exists');
  });
});
