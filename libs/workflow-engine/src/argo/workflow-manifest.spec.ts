import { ArgoValidator } from '../argo-validation/argo-validator';
import type { SubmitWorkflowRequest } from '../workflow-engine';
import {
  assertSubmittable,
  buildJobSecret,
  buildWorkflow,
  ownerReferenceTo,
  semaphoreKeyFor,
  toWorkflowStatus,
  type ArgoWorkflow,
} from './workflow-manifest';

const request = (overrides: Partial<SubmitWorkflowRequest> = {}): SubmitWorkflowRequest => ({
  jobId: '3f1c9a52-0b7e-4d1a-9a34-6c1f0e2d8b77',
  userId: '0d6f2c1e-5b3a-4e8f-9c7d-1a2b3c4d5e6f',
  manifestKey:
    'users/0d6f2c1e-5b3a-4e8f-9c7d-1a2b3c4d5e6f/jobs/3f1c9a52-0b7e-4d1a-9a34-6c1f0e2d8b77/manifest.json',
  bucket: 'docflow',
  chunkCount: 3,
  parallelism: 2,
  callbackSecret: 'cb-secret-value-9f8e7d',
  deadlineSeconds: 7200,
  concurrencyKey: 'Team Acme',
  ...overrides,
});

describe(buildWorkflow.name, () => {
  it('references the template and carries ids, keys and numbers only', () => {
    const sut = buildWorkflow(request(), { namespace: 'docflow-jobs' });

    expect(sut).toEqual({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Workflow',
      metadata: {
        name: 'docflow-job-3f1c9a52-0b7e-4d1a-9a34-6c1f0e2d8b77',
        namespace: 'docflow-jobs',
        labels: {
          'app.kubernetes.io/part-of': 'docflow',
          'docflow.io/job-id': '3f1c9a52-0b7e-4d1a-9a34-6c1f0e2d8b77',
          'docflow.io/user-id': '0d6f2c1e-5b3a-4e8f-9c7d-1a2b3c4d5e6f',
        },
      },
      spec: {
        workflowTemplateRef: { name: 'docflow-transform' },
        arguments: {
          parameters: [
            { name: 'job-id', value: '3f1c9a52-0b7e-4d1a-9a34-6c1f0e2d8b77' },
            { name: 'user-id', value: '0d6f2c1e-5b3a-4e8f-9c7d-1a2b3c4d5e6f' },
            { name: 'manifest-key', value: request().manifestKey },
            { name: 'bucket', value: 'docflow' },
            { name: 'parallelism', value: '2' },
            { name: 'concurrency-key', value: 'Team-Acme' },
          ],
        },
        parallelism: 2,
        activeDeadlineSeconds: 7200,
        podGC: { strategy: 'OnPodSuccess', deleteDelayDuration: '60s' },
        ttlStrategy: { secondsAfterSuccess: 3600, secondsAfterFailure: 86400 },
      },
    });
  });

  it('never contains the callback secret', () => {
    const sut = buildWorkflow(request(), { namespace: 'ns', image: 'registry.local/worker:1' });
    expect(JSON.stringify(sut)).not.toContain(request().callbackSecret);
  });

  it('passes schema.json, the CRD and the strict check', () => {
    const validator = ArgoValidator.forDirectory();
    const sut = buildWorkflow(request(), { namespace: 'ns', image: 'registry.local/worker:1' });
    expect(validator.validateWorkflow(sut)).toEqual([]);
  });
});

describe(buildJobSecret.name, () => {
  it('holds the callback secret under callback-secret, labelled with the job and owned by its workflow', () => {
    const built = buildWorkflow(request(), { namespace: 'ns' });
    const workflow = { ...built, metadata: { ...built.metadata, uid: 'u-1' } };
    expect(buildJobSecret(request(), 'ns', workflow)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'docflow-job-3f1c9a52-0b7e-4d1a-9a34-6c1f0e2d8b77',
        namespace: 'ns',
        labels: { 'app.kubernetes.io/part-of': 'docflow', 'docflow.io/job-id': request().jobId },
        ownerReferences: [
          {
            apiVersion: 'argoproj.io/v1alpha1',
            kind: 'Workflow',
            name: 'docflow-job-3f1c9a52-0b7e-4d1a-9a34-6c1f0e2d8b77',
            uid: 'u-1',
            blockOwnerDeletion: false,
          },
        ],
      },
      type: 'Opaque',
      stringData: { 'callback-secret': 'cb-secret-value-9f8e7d' },
    });
  });

  it('needs the workflow as the API server returned it', () => {
    expect(() => buildJobSecret(request(), 'ns', buildWorkflow(request(), { namespace: 'ns' }))).toThrow(
      'no name or uid',
    );
  });
});

describe(ownerReferenceTo.name, () => {
  it('needs the uid the API server gave the workflow', () => {
    const workflow = buildWorkflow(request(), { namespace: 'ns' });
    expect(() => ownerReferenceTo(workflow)).toThrow('no name or uid');
    expect(ownerReferenceTo({ ...workflow, metadata: { ...workflow.metadata, uid: 'u-1' } })).toEqual({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Workflow',
      name: 'docflow-job-3f1c9a52-0b7e-4d1a-9a34-6c1f0e2d8b77',
      uid: 'u-1',
      blockOwnerDeletion: false,
    });
  });
});

describe(assertSubmittable.name, () => {
  it('accepts a well-formed request', () => {
    expect(() => assertSubmittable(request())).not.toThrow();
  });

  it.each([
    [{ jobId: 'Job_1' }, 'jobId must be lower-case alphanumerics'],
    [{ jobId: 'a'.repeat(52) }, 'at most 51 characters'],
    [{ userId: 'user id' }, 'userId must be a valid label value'],
    [{ chunkCount: 0 }, 'chunkCount must be an integer >= 1'],
    [{ parallelism: 1.5 }, 'parallelism must be an integer >= 1'],
    [{ deadlineSeconds: -1 }, 'deadlineSeconds must be an integer >= 1'],
    [{ callbackSecret: '' }, 'callbackSecret is required'],
  ])('refuses %p', (overrides, message) => {
    expect(() => assertSubmittable(request(overrides))).toThrow(message);
  });
});

describe(semaphoreKeyFor.name, () => {
  it.each([
    ['team-acme', 'team-acme'],
    ['Team Acme/EU', 'Team-Acme-EU'],
    ['', 'default'],
    ['..', 'default'],
  ])('%p → %p', (input, key) => {
    expect(semaphoreKeyFor(input)).toBe(key);
  });
});

describe(toWorkflowStatus.name, () => {
  const workflow = (patch: Partial<ArgoWorkflow> = {}): ArgoWorkflow => ({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: { name: 'docflow-job-j1', labels: { 'docflow.io/job-id': 'j1' } },
    spec: {},
    ...patch,
  });

  it.each([
    ['no status yet', undefined, { phase: 'Pending' }],
    ['an empty phase', { phase: '' }, { phase: 'Pending' }],
    ['Pending', { phase: 'Pending' }, { phase: 'Pending' }],
    [
      'Running',
      { phase: 'Running', startedAt: '2026-01-01T00:00:00Z' },
      { phase: 'Running', startedAt: '2026-01-01T00:00:00Z' },
    ],
    [
      'Succeeded',
      { phase: 'Succeeded', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:05:00Z' },
      { phase: 'Succeeded', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:05:00Z' },
    ],
    [
      'Failed',
      { phase: 'Failed', message: 'child failed', finishedAt: '2026-01-01T00:05:00Z', startedAt: null },
      { phase: 'Failed', message: 'child failed', finishedAt: '2026-01-01T00:05:00Z' },
    ],
    ['Error', { phase: 'Error', message: 'pod deleted' }, { phase: 'Error', message: 'pod deleted' }],
  ])('maps %s', (_case, status, expected) => {
    expect(toWorkflowStatus(workflow({ status }))).toEqual({
      jobId: 'j1',
      workflowName: 'docflow-job-j1',
      ...expected,
    });
  });

  it('marks a workflow being shut down as stopping', () => {
    expect(toWorkflowStatus(workflow({ spec: { shutdown: 'Stop' }, status: { phase: 'Running' } }))).toEqual({
      jobId: 'j1',
      workflowName: 'docflow-job-j1',
      phase: 'Running',
      stopping: true,
    });
  });

  it('marks a workflow that is still suspended (submit has not resumed it)', () => {
    expect(toWorkflowStatus(workflow({ spec: { suspend: true } }))).toEqual({
      jobId: 'j1',
      workflowName: 'docflow-job-j1',
      phase: 'Pending',
      suspended: true,
    });
    expect(toWorkflowStatus(workflow({ spec: { suspend: false } }))).not.toHaveProperty('suspended');
  });

  it('falls back to the name for the job id', () => {
    expect(toWorkflowStatus(workflow({ metadata: { name: 'docflow-job-j2' } })).jobId).toBe('j2');
  });
});
