import { join } from 'node:path';
import { WorkerExitCode } from '@docflow/contracts';
import { findRepositoryRoot } from '../argo-validation/argo-schemas';
import { readArgoManifests } from '../argo-validation/validate-files';
import {
  buildWorkflow,
  DOCFLOW_WORKFLOW_TEMPLATE,
  JOB_SECRET_KEY,
  WORKFLOW_PARAMETERS,
} from './workflow-manifest';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const TEMPLATE_FILE = join(
  findRepositoryRoot(__dirname),
  'argo-templates',
  `${DOCFLOW_WORKFLOW_TEMPLATE}.yaml`,
);

function readTemplate(): Json {
  const [first] = readArgoManifests(TEMPLATE_FILE);
  if (!first?.manifest) throw new Error(`Cannot read ${TEMPLATE_FILE}: ${first?.error}`);
  return JSON.parse(JSON.stringify(first.manifest)) as Json;
}

const template = readTemplate();
const templates = template['spec']['templates'] as Json[];
const named = (name: string): Json => {
  const found = templates.find((t) => t['name'] === name);
  if (!found) throw new Error(`No template ${name}`);
  return found;
};
/** The container or script of every leaf template. */
const containers = templates
  .filter((t) => t['container'] || t['script'])
  .map((t) => ({ name: t['name'] as string, container: (t['container'] ?? t['script']) as Json }));

const request = {
  jobId: 'j1',
  userId: 'u1',
  manifestKey: 'users/u1/jobs/j1/manifest.json',
  bucket: 'docflow',
  chunkCount: 3,
  parallelism: 2,
  callbackSecret: 's3cr3t',
  deadlineSeconds: 600,
  concurrencyKey: 'team-a',
};

describe(DOCFLOW_WORKFLOW_TEMPLATE, () => {
  it('is the WorkflowTemplate the driver references', () => {
    expect(template).toMatchObject({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'WorkflowTemplate',
      metadata: { name: DOCFLOW_WORKFLOW_TEMPLATE },
      spec: { entrypoint: 'main', onExit: 'report', serviceAccountName: 'docflow-workflow' },
    });
  });

  it('declares every parameter the driver sends, and the driver sends every one without a default', () => {
    const declared = template['spec']['arguments']['parameters'] as Json[];
    const sent = buildWorkflow(request, { namespace: 'ns', image: 'img' }).spec.arguments?.parameters ?? [];

    expect(declared.map((p) => p['name']).sort()).toEqual(Object.values(WORKFLOW_PARAMETERS).sort());
    expect(sent.map((p) => p.name).sort()).toEqual(Object.values(WORKFLOW_PARAMETERS).sort());
    expect(declared.filter((p) => p['value'] === undefined).map((p) => p['name'])).toEqual([
      'job-id',
      'user-id',
      'manifest-key',
      'bucket',
    ]);
    expect(declared.find((p) => p['name'] === 'image')?.['value']).toBe('ghcr.io/docflow/worker:0.1.0');
  });

  it("fans transform out over the chunks the plan step read from the job's manifest", () => {
    expect(named('main')['dag']).toEqual({
      failFast: false,
      tasks: [
        { name: 'plan', template: 'plan' },
        {
          name: 'transform',
          depends: 'plan',
          template: 'transform',
          withParam: '{{tasks.plan.outputs.result}}',
          arguments: { parameters: [{ name: 'chunk', value: '{{item}}' }] },
        },
      ],
    });
  });

  it('plans with the worker: the manifest from the bucket, the chunk list on stdout', () => {
    const container = named('plan')['container'] as Json;
    expect(container['image']).toBe('{{workflow.parameters.image}}');
    expect(container['command']).toEqual(['docflow-worker']);
    expect(container['args']).toEqual([
      'plan',
      '--job',
      '{{workflow.parameters.job-id}}',
      '--manifest',
      's3://{{workflow.parameters.bucket}}/{{workflow.parameters.manifest-key}}',
    ]);
    expect(container['envFrom']).toEqual(named('transform')['container']['envFrom']);
  });

  it('runs the worker step with the documented arguments', () => {
    const container = named('transform')['container'] as Json;
    expect(container['image']).toBe('{{workflow.parameters.image}}');
    expect(container['command']).toEqual(['docflow-worker']);
    expect(container['args']).toEqual([
      'run',
      '--job',
      '{{workflow.parameters.job-id}}',
      '--manifest',
      's3://{{workflow.parameters.bucket}}/{{workflow.parameters.manifest-key}}',
      '--chunk',
      '{{inputs.parameters.chunk}}',
    ]);
  });

  it(`retries only exit code ${WorkerExitCode.RETRYABLE} (and pods that ended in Error), with backoff`, () => {
    for (const name of ['plan', 'transform', 'report'])
      expect(named(name)['retryStrategy']).toMatchObject({
        retryPolicy: 'Always',
        expression: `lastRetry.status == "Error" || asInt(lastRetry.exitCode) == ${WorkerExitCode.RETRYABLE}`,
        backoff: { duration: expect.any(String), factor: '2', maxDuration: expect.any(String) },
      });
    expect(Number(named('transform')['retryStrategy']['limit'])).toBeGreaterThanOrEqual(3);
  });

  it('takes one slot of the team semaphore per transform pod', () => {
    expect(named('transform')['synchronization']).toEqual({
      semaphores: [
        { configMapKeyRef: { name: 'docflow-semaphores', key: '{{workflow.parameters.concurrency-key}}' } },
      ],
    });
  });

  it('reads secrets from Secrets only: the per-job callback secret, S3 credentials, the provider key', () => {
    const fromSecret = (name: string) =>
      Object.fromEntries(
        (named(name)['container']['env'] as Json[])
          .filter((e) => e['valueFrom']?.['secretKeyRef'])
          .map((e) => [e['name'], e['valueFrom']['secretKeyRef']]),
      );
    expect(fromSecret('plan')).toEqual({
      DOCFLOW_CALLBACK_SECRET: { name: 'docflow-job-{{workflow.parameters.job-id}}', key: JOB_SECRET_KEY },
      S3_ACCESS_KEY_ID: { name: 'docflow-s3', key: 'access-key-id' },
      S3_SECRET_ACCESS_KEY: { name: 'docflow-s3', key: 'secret-access-key' },
    });
    expect(fromSecret('transform')).toEqual({
      DOCFLOW_CALLBACK_SECRET: { name: 'docflow-job-{{workflow.parameters.job-id}}', key: JOB_SECRET_KEY },
      S3_ACCESS_KEY_ID: { name: 'docflow-s3', key: 'access-key-id' },
      S3_SECRET_ACCESS_KEY: { name: 'docflow-s3', key: 'secret-access-key' },
      DOCFLOW_PROVIDER_API_KEY: { name: 'docflow-provider', key: 'api-key', optional: true },
    });
    expect(named('transform')['container']['envFrom']).toEqual([
      { configMapRef: { name: 'docflow-worker-config' } },
    ]);
    for (const { container } of containers)
      for (const variable of (container['env'] ?? []) as Json[])
        if (/SECRET|KEY|TOKEN|PASSWORD/.test(variable['name'] as string))
          expect(variable['value']).toBeUndefined();
  });

  it('reports the final status from the exit handler, the secret kept out of its arguments', () => {
    const report = named('report')['container'] as Json;
    expect(report['args']).toEqual([
      'report',
      '--job',
      '{{workflow.parameters.job-id}}',
      '--status',
      '{{workflow.status}}',
    ]);
    expect(report['env']).toContainEqual({
      name: 'DOCFLOW_CALLBACK_SECRET',
      valueFrom: {
        secretKeyRef: { name: 'docflow-job-{{workflow.parameters.job-id}}', key: JOB_SECRET_KEY },
      },
    });
  });

  it('runs every container as a non-root user with a read-only root filesystem and no capabilities', () => {
    expect(template['spec']['securityContext']).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 10001,
      fsGroup: 10001,
    });
    expect(containers.map((c) => c.name)).toEqual(['plan', 'transform', 'report']);
    for (const { container } of containers) {
      expect(container['securityContext']).toEqual({
        runAsNonRoot: true,
        runAsUser: 10001,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(container['volumeMounts']).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    }
  });

  it('gives every container CPU and memory requests and limits', () => {
    for (const { container } of containers)
      expect(container['resources']).toEqual({
        requests: { cpu: expect.any(String), memory: expect.any(String) },
        limits: { cpu: expect.any(String), memory: expect.any(String) },
      });
  });

  it('cleans up after itself and has a deadline', () => {
    expect(template['spec']).toMatchObject({
      podGC: { strategy: 'OnPodSuccess' },
      ttlStrategy: { secondsAfterSuccess: expect.any(Number), secondsAfterFailure: expect.any(Number) },
      activeDeadlineSeconds: expect.any(Number),
      parallelism: expect.any(Number),
    });
  });
});
