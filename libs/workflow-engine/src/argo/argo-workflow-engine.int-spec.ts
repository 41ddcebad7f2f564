import type { KubeConfig } from '@kubernetes/client-node';
import { ArgoValidationError, ArgoValidator } from '../argo-validation/argo-validator';
import type { SubmitWorkflowRequest, WorkflowStatus } from '../workflow-engine';
import { ArgoWorkflowEngine, type ArgoWorkflowEngineOptions } from './argo-workflow-engine';
import { FakeKubeApi } from './testing/fake-kube-api';
import type { ArgoPodGC } from './workflow-manifest';

const NAMESPACE = 'docflow-jobs';
const WORKFLOWS_PATH = `/apis/argoproj.io/v1alpha1/namespaces/${NAMESPACE}/workflows`;
const SECRETS_PATH = `/api/v1/namespaces/${NAMESPACE}/secrets`;
const TOKEN = 't';

let counter = 0;
const newRequest = (overrides: Partial<SubmitWorkflowRequest> = {}): SubmitWorkflowRequest => {
  const jobId = `job-${++counter}-${Date.now().toString(36)}`;
  return {
    jobId,
    userId: 'user-1',
    manifestKey: `users/user-1/jobs/${jobId}/manifest.json`,
    bucket: 'docflow',
    chunkCount: 4,
    parallelism: 2,
    callbackSecret: `callback-secret-${jobId}-0a9b8c7d`,
    deadlineSeconds: 3600,
    concurrencyKey: 'team-a',
    ...overrides,
  };
};

/** Collects what `watch` reports; `until` resolves once a matching status arrived (no sleeps). */
class StatusRecorder {
  readonly seen: WorkflowStatus[] = [];
  private waiters: { match: (s: WorkflowStatus) => boolean; resolve: (s: WorkflowStatus) => void }[] = [];

  readonly record = (status: WorkflowStatus): void => {
    this.seen.push(status);
    this.waiters = this.waiters.filter((waiter) => !(waiter.match(status) && (waiter.resolve(status), true)));
  };

  until(
    match: (s: WorkflowStatus) => boolean,
    description: string,
    timeoutMs = 10_000,
  ): Promise<WorkflowStatus> {
    const already = this.seen.find(match);
    if (already) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`Timed out waiting for ${description}; seen: ${JSON.stringify(this.seen)}`));
      }, timeoutMs);
      const done = (status: WorkflowStatus) => {
        clearTimeout(timer);
        resolve(status);
      };
      this.waiters.push({ match, resolve: done });
    });
  }

  phasesOf(workflowName: string): string[] {
    return this.seen.filter((s) => s.workflowName === workflowName).map((s) => s.phase);
  }
}

// This file's own dynamic import (see ArgoWorkflowEngineOptions.kubernetesClient).
const importKubernetesClient = new Function('return import("@kubernetes/client-node")') as () => Promise<
  typeof import('@kubernetes/client-node')
>;
let k8s: typeof import('@kubernetes/client-node');

describe(ArgoWorkflowEngine.name, () => {
  let fake: FakeKubeApi;
  let kubeConfig: KubeConfig;
  let validator: ArgoValidator;
  let sut: ArgoWorkflowEngine;
  const newEngine = (options: Partial<ArgoWorkflowEngineOptions> = {}) =>
    new ArgoWorkflowEngine({
      kubernetesClient: k8s,
      namespace: NAMESPACE,
      kubeConfig,
      validator,
      watchBackoff: { initialMs: 10, maxMs: 100 },
      ...options,
    });

  beforeAll(async () => {
    validator = ArgoValidator.forDirectory();
    fake = await new FakeKubeApi({ validator, token: TOKEN }).start();
    k8s = await importKubernetesClient();
    kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'fake', server: fake.url, skipTLSVerify: true }],
      users: [{ name: 'u', token: TOKEN }],
      contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
      currentContext: 'c',
    });
  });

  afterAll(async () => {
    await fake.stop();
  });

  beforeEach(() => {
    sut = newEngine();
    fake.requests.length = 0;
  });

  describe('submit', () => {
    const resumed = { spec: { suspend: null } };

    it('creates the Workflow suspended, then the Secret owned by it, then resumes the Workflow', async () => {
      const request = newRequest();
      const name = `docflow-job-${request.jobId}`;

      await expect(sut.submit(request)).resolves.toEqual({ workflowName: name });

      expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        `POST ${WORKFLOWS_PATH}`,
        `POST ${SECRETS_PATH}`,
        `PATCH ${WORKFLOWS_PATH}/${name}`,
      ]);
      const [createWorkflow, createSecret, resume] = fake.requests;
      expect(createWorkflow.body).toMatchObject({ spec: { suspend: true } });
      expect(createWorkflow.query.get('fieldValidation')).toBe('Strict');
      const workflow = fake.workflow(NAMESPACE, name);
      expect(workflow).toMatchObject({
        metadata: {
          name,
          labels: {
            'app.kubernetes.io/part-of': 'docflow',
            'docflow.io/job-id': request.jobId,
            'docflow.io/user-id': 'user-1',
          },
        },
        spec: {
          workflowTemplateRef: { name: 'docflow-transform' },
          arguments: {
            parameters: [
              { name: 'job-id', value: request.jobId },
              { name: 'user-id', value: 'user-1' },
              { name: 'manifest-key', value: request.manifestKey },
              { name: 'bucket', value: 'docflow' },
              { name: 'parallelism', value: '2' },
              { name: 'concurrency-key', value: 'team-a' },
            ],
          },
          parallelism: 2,
          activeDeadlineSeconds: 3600,
          podGC: { strategy: 'OnPodSuccess' },
          ttlStrategy: { secondsAfterSuccess: 3600 },
        },
      });
      expect(workflow?.['spec']).not.toHaveProperty('suspend');
      expect(JSON.stringify(createWorkflow.body)).not.toContain(request.callbackSecret);
      expect(JSON.stringify(workflow)).not.toContain(request.callbackSecret);
      expect(fake.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);

      // Created with its owner: the uid the API server gave the Workflow.
      const owner = {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Workflow',
        name,
        uid: workflow?.metadata.uid,
      };
      expect(createSecret.body).toMatchObject({ metadata: { ownerReferences: [owner] } });
      expect(fake.secret(NAMESPACE, name)).toMatchObject({
        metadata: {
          labels: { 'app.kubernetes.io/part-of': 'docflow', 'docflow.io/job-id': request.jobId },
          ownerReferences: [{ ...owner, blockOwnerDeletion: false }],
        },
        stringData: { 'callback-secret': request.callbackSecret },
      });
      expect(resume).toMatchObject({ contentType: 'application/merge-patch+json', body: resumed });
      await expect(sut.status(request.jobId)).resolves.not.toHaveProperty('suspended');
    });

    it('is idempotent: a second submit returns the existing workflow and touches nothing', async () => {
      const request = newRequest();
      const first = await sut.submit(request);
      const uid = fake.workflow(NAMESPACE, first.workflowName)?.metadata.uid;
      fake.requests.length = 0;

      await expect(newEngine().submit(request)).resolves.toEqual(first);

      // 409 on the Workflow, read back: no longer suspended, so its Secret exists and it runs.
      expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        `POST ${WORKFLOWS_PATH}`,
        `GET ${WORKFLOWS_PATH}/${first.workflowName}`,
      ]);
      expect(
        fake.listWorkflows(NAMESPACE).filter((w) => w.metadata.name === first.workflowName),
      ).toHaveLength(1);
      expect(fake.workflow(NAMESPACE, first.workflowName)?.metadata.uid).toBe(uid);
      expect(fake.secret(NAMESPACE, first.workflowName)?.metadata.ownerReferences).toEqual([
        expect.objectContaining({ uid }),
      ]);
    });

    it('finishes a submit that stopped after creating the Workflow: creates the Secret, then resumes', async () => {
      const request = newRequest();
      const name = `docflow-job-${request.jobId}`;
      // The Secret fails, and so does the shutdown: what a jobs service that died at that point leaves behind.
      fake.failNext('POST', 'secrets', 500);
      fake.failNext('PATCH', 'workflows', 500);
      await expect(sut.submit(request)).rejects.toThrow(
        /creating Secret .* failed \(HTTP 500\): injected failure; then Kubernetes API: shutting down the suspended Workflow .* failed \(HTTP 500\)/,
      );
      expect(fake.workflow(NAMESPACE, name)?.['spec']).toMatchObject({ suspend: true });
      expect(fake.secret(NAMESPACE, name)).toBeUndefined();
      await expect(sut.status(request.jobId)).resolves.toMatchObject({ phase: 'Pending', suspended: true });
      expect(() => fake.setPhase(NAMESPACE, name, 'Running')).toThrow('is suspended');
      fake.requests.length = 0;

      await expect(newEngine().submit(request)).resolves.toEqual({ workflowName: name });

      expect(
        fake.requests.map((r) => `${r.method} ${r.path} ${r.method === 'GET' ? '' : r.body ? 'body' : ''}`),
      ).toEqual([
        `POST ${WORKFLOWS_PATH} body`,
        `GET ${WORKFLOWS_PATH}/${name} `,
        `POST ${SECRETS_PATH} body`,
        `PATCH ${WORKFLOWS_PATH}/${name} body`,
      ]);
      const workflow = fake.workflow(NAMESPACE, name);
      expect(workflow?.['spec']).not.toHaveProperty('suspend');
      expect(fake.secret(NAMESPACE, name)?.metadata.ownerReferences).toEqual([
        expect.objectContaining({ uid: workflow?.metadata.uid }),
      ]);
    });

    it('finishes a submit that stopped after creating the Secret: the Secret exists (409), then resumes', async () => {
      const request = newRequest();
      const name = `docflow-job-${request.jobId}`;
      fake.failNext('PATCH', 'workflows', 503); // the resume
      fake.failNext('PATCH', 'workflows', 503); // the shutdown after it
      await expect(sut.submit(request)).rejects.toThrow(/resuming Workflow .* failed \(HTTP 503\)/);
      expect(fake.workflow(NAMESPACE, name)?.['spec']).toMatchObject({ suspend: true });
      expect(fake.secret(NAMESPACE, name)).toBeDefined();
      fake.requests.length = 0;

      await expect(newEngine().submit(request)).resolves.toEqual({ workflowName: name });

      expect(fake.requests.map((r) => r.method)).toEqual(['POST', 'GET', 'POST', 'PATCH']);
      expect(fake.requests[2]).toMatchObject({ path: SECRETS_PATH });
      expect(fake.workflow(NAMESPACE, name)?.['spec']).not.toHaveProperty('suspend');
      expect(fake.secret(NAMESPACE, name)?.stringData).toEqual({ 'callback-secret': request.callbackSecret });
    });

    it('terminates the suspended Workflow when the Secret cannot be created, and says so', async () => {
      const request = newRequest();
      const name = `docflow-job-${request.jobId}`;
      fake.failNext('POST', 'secrets', 500, 'etcdserver: request timed out');

      await expect(sut.submit(request)).rejects.toThrow(
        `Kubernetes API: creating Secret ${name} failed (HTTP 500): etcdserver: request timed out; ` +
          `Workflow ${name} was shut down (spec.shutdown: Terminate)`,
      );

      expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        `POST ${WORKFLOWS_PATH}`,
        `POST ${SECRETS_PATH}`,
        `PATCH ${WORKFLOWS_PATH}/${name}`,
      ]);
      // One patch: Argo acts on no shutdown while the workflow is suspended.
      expect(fake.requests[2]).toMatchObject({
        contentType: 'application/merge-patch+json',
        body: { spec: { shutdown: 'Terminate', suspend: null } },
      });
      expect(fake.workflow(NAMESPACE, name)?.['spec']).toMatchObject({ shutdown: 'Terminate' });
      expect(fake.workflow(NAMESPACE, name)?.['spec']).not.toHaveProperty('suspend');
      expect(fake.secret(NAMESPACE, name)).toBeUndefined();
      await expect(sut.status(request.jobId)).resolves.toMatchObject({ stopping: true });

      // Not started again by a later submit.
      await expect(newEngine().submit(request)).rejects.toThrow(
        `Workflow ${name} exists and was shut down (spec.shutdown: Terminate): it does not run again`,
      );
      expect(fake.secret(NAMESPACE, name)).toBeUndefined();
    });

    it('lets Kubernetes delete the Secret with the workflow', async () => {
      const { workflowName } = await sut.submit(newRequest());
      fake.deleteWorkflow(NAMESPACE, workflowName);
      expect(fake.secret(NAMESPACE, workflowName)).toBeUndefined();
    });

    it('validates the Workflow before sending anything', async () => {
      const engine = newEngine({ podGC: { strategy: 'OnPodSuccess', deleteDelay: '1m' } as ArgoPodGC });
      const submitted = engine.submit(newRequest());

      await expect(submitted).rejects.toThrow(ArgoValidationError);
      await expect(submitted).rejects.toThrow(
        '[strict] $.spec.podGC.deleteDelay: unknown field "deleteDelay"',
      );
      expect(fake.requests).toEqual([]);
    });

    it('creates no Secret when the API server refuses the Workflow', async () => {
      // A validator that lets everything through, so the API server's own check is what refuses.
      const acceptsAnything = {
        assertValid: () => undefined,
        checkStrict: () => [],
      } as unknown as ArgoValidator;
      const engine = newEngine({
        validator: acceptsAnything,
        ttlStrategy: { secondsAfterSuccess: 'soon' as unknown as number },
      });
      const request = newRequest();

      await expect(engine.submit(request)).rejects.toThrow(
        /^Kubernetes API: creating Workflow docflow-job-\S+ failed \(HTTP 422\): Workflow.argoproj.io is invalid/,
      );
      expect(fake.secret(NAMESPACE, `docflow-job-${request.jobId}`)).toBeUndefined();
      expect(fake.requests.map((r) => r.method)).toEqual(['POST']);
    });
  });

  describe('cancel', () => {
    it('merge-patches spec.shutdown: Stop, and status reports the workflow as stopping', async () => {
      const request = newRequest();
      const { workflowName } = await sut.submit(request);
      fake.setPhase(NAMESPACE, workflowName, 'Running');
      fake.requests.length = 0;

      await sut.cancel(request.jobId);

      expect(fake.requests).toEqual([
        expect.objectContaining({
          method: 'PATCH',
          path: `${WORKFLOWS_PATH}/${workflowName}`,
          contentType: 'application/merge-patch+json',
          body: { spec: { shutdown: 'Stop', suspend: null } },
        }),
      ]);
      expect(fake.workflow(NAMESPACE, workflowName)?.['spec']).toMatchObject({ shutdown: 'Stop' });
      await expect(sut.status(request.jobId)).resolves.toMatchObject({ phase: 'Running', stopping: true });
    });

    it('stops a workflow that is still suspended (clears suspend in the same patch)', async () => {
      const request = newRequest();
      const name = `docflow-job-${request.jobId}`;
      fake.failNext('PATCH', 'workflows', 500);
      fake.failNext('PATCH', 'workflows', 500);
      await expect(sut.submit(request)).rejects.toThrow(/resuming Workflow/);
      expect(fake.workflow(NAMESPACE, name)?.['spec']).toMatchObject({ suspend: true });

      await sut.cancel(request.jobId);

      const spec = fake.workflow(NAMESPACE, name)?.['spec'];
      expect(spec).toMatchObject({ shutdown: 'Stop' });
      expect(spec).not.toHaveProperty('suspend');
      await expect(sut.status(request.jobId)).resolves.toEqual({
        jobId: request.jobId,
        workflowName: name,
        phase: 'Pending',
        stopping: true,
      });
    });

    it('does nothing for a job without a workflow', async () => {
      await expect(sut.cancel('no-such-job')).resolves.toBeUndefined();
    });
  });

  describe('status', () => {
    it('is undefined for a job without a workflow', async () => {
      await expect(sut.status('no-such-job')).resolves.toBeUndefined();
    });

    it('maps the phases, times and message', async () => {
      const request = newRequest();
      const { workflowName } = await sut.submit(request);
      const base = { jobId: request.jobId, workflowName };

      await expect(sut.status(request.jobId)).resolves.toEqual({ ...base, phase: 'Pending' });

      const running = fake.setPhase(NAMESPACE, workflowName, 'Running');
      const startedAt = (running['status'] as { startedAt: string }).startedAt;
      await expect(sut.status(request.jobId)).resolves.toEqual({ ...base, phase: 'Running', startedAt });

      const failed = fake.setPhase(NAMESPACE, workflowName, 'Failed', {
        message: 'child "transform(2)" failed',
      });
      await expect(sut.status(request.jobId)).resolves.toEqual({
        ...base,
        phase: 'Failed',
        startedAt,
        finishedAt: (failed['status'] as { finishedAt: string }).finishedAt,
        message: 'child "transform(2)" failed',
      });
    });
  });

  describe('watch', () => {
    let recorder: StatusRecorder;
    let abort: AbortController;
    let watching: Promise<void> | undefined;

    beforeEach(() => {
      recorder = new StatusRecorder();
      abort = new AbortController();
      watching = undefined;
    });

    afterEach(async () => {
      abort.abort();
      await watching;
      await fake.waitForWatches(0, 'exactly');
    });

    const startWatching = async (engine = sut) => {
      watching = engine.watch(recorder.record, abort.signal);
      await fake.waitForWatches(1);
    };

    it('reports the workflows that exist, then Pending → Running → Succeeded, and Failed', async () => {
      const a = await sut.submit(newRequest());
      const b = await sut.submit(newRequest());
      await startWatching();
      await recorder.until((s) => s.workflowName === a.workflowName && s.phase === 'Pending', 'a Pending');
      await recorder.until((s) => s.workflowName === b.workflowName && s.phase === 'Pending', 'b Pending');

      fake.setPhase(NAMESPACE, a.workflowName, 'Running');
      fake.setPhase(NAMESPACE, a.workflowName, 'Succeeded');
      fake.setPhase(NAMESPACE, b.workflowName, 'Running');
      fake.setPhase(NAMESPACE, b.workflowName, 'Failed', { message: 'child failed' });
      await recorder.until(
        (s) => s.workflowName === a.workflowName && s.phase === 'Succeeded',
        'a Succeeded',
      );
      const failed = await recorder.until(
        (s) => s.workflowName === b.workflowName && s.phase === 'Failed',
        'b Failed',
      );

      expect(recorder.phasesOf(a.workflowName)).toEqual(['Pending', 'Running', 'Succeeded']);
      expect(recorder.phasesOf(b.workflowName)).toEqual(['Pending', 'Running', 'Failed']);
      expect(failed).toMatchObject({ message: 'child failed', finishedAt: expect.any(String) });
      const list = fake.requests.find(
        (r) => r.method === 'GET' && r.path === WORKFLOWS_PATH && !r.query.has('watch'),
      );
      expect(list?.query.get('labelSelector')).toBe('app.kubernetes.io/part-of=docflow');
    });

    it('reports a workflow created while watching, and a stop request', async () => {
      await startWatching();
      const request = newRequest();
      const { workflowName } = await sut.submit(request);
      await recorder.until((s) => s.workflowName === workflowName && s.phase === 'Pending', 'Pending');

      await sut.cancel(request.jobId);

      await recorder.until((s) => s.workflowName === workflowName && s.stopping === true, 'stopping');
    });

    it('resumes after a dropped connection from the last resourceVersion and still delivers later changes', async () => {
      const { workflowName } = await sut.submit(newRequest());
      await startWatching();
      await recorder.until((s) => s.workflowName === workflowName, 'the listed workflow');
      const lastSeen = fake.resourceVersion; // the list's: nothing changed since

      fake.dropWatches();
      fake.setPhase(NAMESPACE, workflowName, 'Running'); // while nobody watches
      await recorder.until(
        (s) => s.workflowName === workflowName && s.phase === 'Running',
        'Running after the drop',
      );
      await fake.waitForWatches(1);
      fake.setPhase(NAMESPACE, workflowName, 'Succeeded');
      await recorder.until((s) => s.workflowName === workflowName && s.phase === 'Succeeded', 'Succeeded');

      const watches = fake.requests.filter(
        (r) => r.path === WORKFLOWS_PATH && r.query.get('watch') === 'true',
      );
      expect(watches.length).toBeGreaterThanOrEqual(2);
      expect(watches[1].query.get('resourceVersion')).toBe(lastSeen);
      expect(fake.requests.filter((r) => r.method === 'GET' && !r.query.has('watch'))).toHaveLength(1); // no relist
      expect(recorder.phasesOf(workflowName)).toEqual(['Pending', 'Running', 'Succeeded']);
    });

    it('resumes from the resourceVersion of a BOOKMARK', async () => {
      const { workflowName } = await sut.submit(newRequest());
      await startWatching();
      await recorder.until((s) => s.workflowName === workflowName, 'the listed workflow');
      // A new Secret moves the resourceVersion on without an event for the workflow watch; only the bookmark
      // tells the watch about it.
      const created = await fetch(`${fake.url}${SECRETS_PATH}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: `${workflowName}-other` },
        }),
      });
      expect(created.status).toBe(201);
      await fake.bookmark();
      const bookmarked = fake.resourceVersion;

      fake.dropWatches();
      await fake.waitForWatches(1);

      const watches = fake.requests.filter(
        (r) => r.path === WORKFLOWS_PATH && r.query.get('watch') === 'true',
      );
      expect(watches[0].query.get('allowWatchBookmarks')).toBe('true');
      expect(watches[0].query.get('resourceVersion')).not.toBe(bookmarked);
      expect(watches.at(-1)?.query.get('resourceVersion')).toBe(bookmarked);
    });

    it('lists again after 410 Gone', async () => {
      const { workflowName } = await sut.submit(newRequest());
      await startWatching();
      await recorder.until((s) => s.workflowName === workflowName, 'the listed workflow');
      const lists = () =>
        fake.requests.filter((r) => r.method === 'GET' && r.path === WORKFLOWS_PATH && !r.query.has('watch'))
          .length;
      expect(lists()).toBe(1);

      fake.dropWatches();
      fake.setPhase(NAMESPACE, workflowName, 'Running');
      fake.compactHistory(); // the version the driver resumes from is now too old

      await recorder.until(
        (s) => s.workflowName === workflowName && s.phase === 'Running',
        'Running after relisting',
      );
      expect(lists()).toBe(2);
      await fake.waitForWatches(1);
      fake.setPhase(NAMESPACE, workflowName, 'Succeeded');
      await recorder.until((s) => s.workflowName === workflowName && s.phase === 'Succeeded', 'Succeeded');
      expect(recorder.phasesOf(workflowName)).toEqual(['Pending', 'Running', 'Succeeded']);
    });

    it('reports a workflow deleted before it finished as Error', async () => {
      const { workflowName } = await sut.submit(newRequest());
      await startWatching();
      await recorder.until((s) => s.workflowName === workflowName, 'the listed workflow');

      fake.deleteWorkflow(NAMESPACE, workflowName);

      await expect(
        recorder.until((s) => s.workflowName === workflowName && s.phase === 'Error', 'Error'),
      ).resolves.toMatchObject({ message: 'The workflow was deleted before it finished' });
    });

    it('ends when the signal aborts', async () => {
      await startWatching();
      abort.abort();
      await expect(watching).resolves.toBeUndefined();
    });
  });

  describe(FakeKubeApi.name, () => {
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${fake.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    it('enforces the jobs Role: no get, list, patch or delete of Secrets, no delete of Workflows (403)', async () => {
      const { workflowName } = await sut.submit(newRequest());
      const attempts = [
        ['GET', `${SECRETS_PATH}/${workflowName}`, undefined, 'get'],
        ['GET', SECRETS_PATH, undefined, 'list'],
        // An empty merge patch answers with the whole Secret: what `patch` alone would allow.
        ['PATCH', `${SECRETS_PATH}/${workflowName}`, {}, 'patch'],
        ['DELETE', `${SECRETS_PATH}/${workflowName}`, undefined, 'delete'],
        ['DELETE', `${WORKFLOWS_PATH}/${workflowName}`, undefined, 'delete'],
      ] as const;
      for (const [method, path, body, verb] of attempts) {
        const response = await call(method, path, body);
        const status = (await response.json()) as { reason: string; message: string };
        expect({ method, path, code: response.status, reason: status.reason }).toEqual({
          method,
          path,
          code: 403,
          reason: 'Forbidden',
        });
        expect(status.message).toContain(`cannot ${verb} resource`);
        expect(status.message).not.toContain('callback-secret');
      }
      expect(fake.secret(NAMESPACE, workflowName)).toBeDefined();
      expect(fake.workflow(NAMESPACE, workflowName)).toBeDefined();
    });

    it('refuses an ownerReference with blockOwnerDeletion: true (no update on workflows/finalizers)', async () => {
      const { workflowName } = await sut.submit(newRequest());
      const uid = fake.workflow(NAMESPACE, workflowName)?.metadata.uid;
      const response = await call('POST', SECRETS_PATH, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: `${workflowName}-blocking`,
          ownerReferences: [
            {
              apiVersion: 'argoproj.io/v1alpha1',
              kind: 'Workflow',
              name: workflowName,
              uid,
              blockOwnerDeletion: true,
            },
          ],
        },
      });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { message: string }).message).toContain(
        'cannot set blockOwnerDeletion',
      );
    });

    it('refuses a Workflow the CRD refuses, with 422, as an API server does', async () => {
      const response = await fetch(`${fake.url}${WORKFLOWS_PATH}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'Workflow',
          metadata: { name: 'wf-bad' },
          spec: { parallelism: 'four' },
        }),
      });
      expect(response.status).toBe(422);
      expect(((await response.json()) as { message: string }).message).toContain(
        '$.spec.parallelism: must be integer',
      );
    });

    it('refuses a PATCH that is not a merge-patch with 415', async () => {
      const { workflowName } = await sut.submit(newRequest());
      const response = await fetch(`${fake.url}${WORKFLOWS_PATH}/${workflowName}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json-patch+json' },
        body: JSON.stringify([{ op: 'add', path: '/spec/shutdown', value: 'Stop' }]),
      });
      expect(response.status).toBe(415);
      expect(fake.workflow(NAMESPACE, workflowName)?.['spec']).not.toHaveProperty('shutdown');
    });
  });
});
