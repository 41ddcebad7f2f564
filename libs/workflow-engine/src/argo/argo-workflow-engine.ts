import type {
  ConfigurationOptions,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  Watch,
} from '@kubernetes/client-node';
import { ArgoValidationError, ArgoValidator } from '../argo-validation/argo-validator';
import {
  workflowNameFor,
  type SubmitWorkflowRequest,
  type WorkflowEngine,
  type WorkflowStatus,
} from '../workflow-engine';
import { loadKubernetesClient, type KubernetesClientModule } from './kubernetes-client';
import {
  ARGO_GROUP,
  ARGO_VERSION,
  DOCFLOW_LABEL_SELECTOR,
  WORKFLOWS_PLURAL,
  assertSubmittable,
  buildJobSecret,
  buildWorkflow,
  isFinished,
  toWorkflowStatus,
  type ArgoWorkflow,
  type WorkflowManifestOptions,
} from './workflow-manifest';

export interface ArgoWorkflowEngineOptions extends Omit<WorkflowManifestOptions, 'namespace'> {
  /** Where the workflows, their Secrets and the WorkflowTemplate live. */
  namespace: string;
  /** Default: `loadFromDefault()` (the in-cluster service account, or $KUBECONFIG / ~/.kube/config). */
  kubeConfig?: KubeConfig;
  /**
   * @kubernetes/client-node, already loaded. Default: {@link loadKubernetesClient}. Tests pass their own: jest
   * reuses a compiled module across the test files of a worker, so a dynamic import made from this library
   * would be answered by the first file's (torn-down) environment.
   */
  kubernetesClient?: KubernetesClientModule;
  /** Checks every Workflow before it is sent. Default: the shared validator of $DOCFLOW_ARGO_SCHEMAS. */
  validator?: ArgoValidator;
  /** Reconnect delays of `watch` after a failure: doubles from `initialMs` up to `maxMs`. */
  watchBackoff?: { initialMs: number; maxMs: number };
  /** Told about each failure `watch` recovers from (a refused list, a dropped or failed connection). */
  onWatchError?: (error: unknown) => void;
}

interface Clients {
  customObjects: CustomObjectsApi;
  core: CoreV1Api;
  watch: Watch;
  /** Client-node 1.x sends PATCH as json-patch unless a middleware sets the Content-Type. */
  mergePatch: ConfigurationOptions;
}

/** Starts a Workflow created suspended: merge-patch `null` removes `spec.suspend` (a boolean in the CRD). */
export const RESUME_PATCH = { spec: { suspend: null } } as const;
/** Cancels a job: see {@link ArgoWorkflowEngine.cancel}. */
export const CANCEL_PATCH = { spec: { shutdown: 'Stop', suspend: null } } as const;
/**
 * Shuts down a Workflow whose start failed. `Terminate`, not `Stop`: no step ran, nobody waits for the exit
 * handler's report (submit throws, and the jobs service fails the job), and that handler reads the per-job Secret,
 * which may not exist, so its pod could not start.
 */
export const ABORT_PATCH = { spec: { shutdown: 'Terminate', suspend: null } } as const;

type WatchOutcome = { kind: 'closed' } | { kind: 'gone' } | { kind: 'failed'; error: unknown };

/** The reason an API call failed with, as `ApiException.code` (calls) or `statusCode` (watch) carry it. */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number') return code;
  return typeof statusCode === 'number' ? statusCode : undefined;
}

/**
 * The `argo` workflow engine: one Argo Workflow per job, from the `docflow-transform` WorkflowTemplate, through
 * the Kubernetes API (@kubernetes/client-node). The callback secret goes into a per-job Secret that the
 * workflow owns; the Workflow itself carries ids and keys only, and is validated against Argo's schemas
 * before it is sent.
 */
export class ArgoWorkflowEngine implements WorkflowEngine {
  readonly kind = 'argo' as const;
  private readonly validator: ArgoValidator;
  private clients?: Promise<Clients>;

  constructor(private readonly options: ArgoWorkflowEngineOptions) {
    // Fails at boot, naming the folder, when the schemas are missing.
    this.validator = options.validator ?? ArgoValidator.forDirectory();
  }

  /**
   * Compiles the schema validators (seconds, once) and loads the Kubernetes client at start-up, so that the
   * first job's submission is not the one that pays for it.
   */
  async prepare(): Promise<void> {
    this.validator.validateWorkflow({});
    await this.getClients();
  }

  /**
   * Creates the job's Workflow suspended (`spec.suspend: true`: the controller starts no step), then the per-job
   * Secret the steps read the callback secret from, already owned by that Workflow (its uid), then resumes the
   * Workflow. So the jobs service needs only `create` on Secrets: it never reads, patches or deletes one.
   *
   * Repeated (same job): an existing Workflow is read back; an existing Secret is the same one (a job's callback
   * secret is fixed when the job is created); a Workflow that is no longer suspended was started by an earlier
   * submit, after its Secret existed. When the Secret cannot be created, or the Workflow not resumed, the Workflow
   * is shut down ({@link ABORT_PATCH}) before the error is thrown: no step ever ran, and none will.
   */
  async submit(request: SubmitWorkflowRequest): Promise<{ workflowName: string }> {
    assertSubmittable(request);
    const namespace = this.options.namespace;
    const built = buildWorkflow(request, { ...this.options, namespace });
    const workflow: ArgoWorkflow = { ...built, spec: { ...built.spec, suspend: true } };
    const name = workflow.metadata.name as string;
    this.assertValid(workflow, `Workflow ${name}`);
    this.assertValidPatch(RESUME_PATCH, name);
    this.assertValidPatch(ABORT_PATCH, name);
    const { customObjects, core, mergePatch } = await this.getClients();

    let created: ArgoWorkflow;
    try {
      created = (await customObjects.createNamespacedCustomObject({
        ...this.workflowsPath(),
        body: workflow,
        fieldValidation: 'Strict',
      })) as ArgoWorkflow;
    } catch (error) {
      if (httpStatusOf(error) !== 409) throw apiError(`creating Workflow ${name}`, error);
      const existing = await this.getWorkflow(name);
      if (!existing) throw apiError(`reading Workflow ${name}`, error);
      if (existing.spec?.shutdown)
        throw new Error(
          `Workflow ${name} exists and was shut down (spec.shutdown: ${existing.spec.shutdown}): it does not run again`,
        );
      // Resumed by an earlier submit, which had created the Secret first.
      if (existing.spec?.suspend !== true) return { workflowName: name };
      created = existing;
    }

    const secret = buildJobSecret(request, namespace, created);
    try {
      await core.createNamespacedSecret({ namespace, body: secret });
    } catch (error) {
      // 409: an earlier submit of this job created it, with the same callback secret and owner.
      if (httpStatusOf(error) !== 409)
        throw await this.abort(name, apiError(`creating Secret ${secret.metadata.name}`, error));
    }

    try {
      await customObjects.patchNamespacedCustomObject(
        { ...this.workflowsPath(), name, body: RESUME_PATCH },
        mergePatch,
      );
    } catch (error) {
      throw await this.abort(name, apiError(`resuming Workflow ${name}`, error));
    }
    return { workflowName: name };
  }

  /**
   * `spec.shutdown: Stop`: no new steps start, running ones get SIGTERM, the exit handler still runs. Clears
   * `spec.suspend` in the same patch: Argo does not act on a shutdown while a workflow is suspended
   * (argoproj/argo-workflows#17041), and without the patch a job cancelled between creation and resumption would
   * stay suspended, with no deadline either (#13722).
   */
  async cancel(jobId: string): Promise<void> {
    const name = workflowNameFor(jobId);
    this.assertValidPatch(CANCEL_PATCH, name);
    const { customObjects, mergePatch } = await this.getClients();
    try {
      await customObjects.patchNamespacedCustomObject(
        { ...this.workflowsPath(), name, body: CANCEL_PATCH },
        mergePatch,
      );
    } catch (error) {
      if (httpStatusOf(error) === 404) return; // nothing to stop
      throw apiError(`stopping Workflow ${name}`, error);
    }
  }

  /**
   * Shuts down a Workflow that submit could not start, and returns `error` to throw (naming the shutdown's own
   * failure too, when there is one: the Workflow then stays suspended and runs nothing).
   */
  private async abort(name: string, error: Error): Promise<Error> {
    const { customObjects, mergePatch } = await this.getClients();
    try {
      await customObjects.patchNamespacedCustomObject(
        { ...this.workflowsPath(), name, body: ABORT_PATCH },
        mergePatch,
      );
      error.message += `; Workflow ${name} was shut down (spec.shutdown: ${ABORT_PATCH.spec.shutdown})`;
    } catch (abortError) {
      error.message += `; then ${apiError(`shutting down the suspended Workflow ${name}`, abortError).message}`;
    }
    return error;
  }

  async status(jobId: string): Promise<WorkflowStatus | undefined> {
    const workflow = await this.getWorkflow(workflowNameFor(jobId));
    return workflow && toWorkflowStatus(workflow);
  }

  /**
   * Lists the docflow workflows and reports each, then watches from the list's resourceVersion and reports
   * every change of a workflow's status. A dropped connection resumes from the last resourceVersion seen,
   * after a backoff when it failed; 410 Gone (that version is too old) lists again. A workflow deleted
   * before it finished is reported once as `Error`. Resolves when `signal` aborts.
   */
  async watch(onStatus: (status: WorkflowStatus) => void, signal: AbortSignal): Promise<void> {
    const reported = new Map<string, { status: WorkflowStatus; key: string }>();
    const report = (status: WorkflowStatus) => {
      const key = JSON.stringify(status);
      if (reported.get(status.workflowName)?.key === key) return;
      reported.set(status.workflowName, { status, key });
      onStatus(status);
    };
    const { initialMs, maxMs } = this.options.watchBackoff ?? { initialMs: 500, maxMs: 30_000 };
    let delay = initialMs;
    const backOff = async () => {
      await sleep(delay, signal);
      delay = Math.min(delay * 2, maxMs);
    };

    while (!signal.aborted) {
      let resourceVersion: string;
      try {
        const list = (await (
          await this.getClients()
        ).customObjects.listNamespacedCustomObject({
          ...this.workflowsPath(),
          labelSelector: DOCFLOW_LABEL_SELECTOR,
        })) as { metadata?: { resourceVersion?: string }; items?: ArgoWorkflow[] };
        for (const workflow of list.items ?? []) report(toWorkflowStatus(workflow));
        resourceVersion = list.metadata?.resourceVersion ?? '';
      } catch (error) {
        this.options.onWatchError?.(error);
        await backOff();
        continue;
      }

      while (!signal.aborted) {
        let events = 0;
        const outcome = await this.watchOnce(resourceVersion, signal, (type, workflow) => {
          if (workflow.metadata?.resourceVersion) resourceVersion = workflow.metadata.resourceVersion;
          events++;
          delay = initialMs;
          if (type === 'BOOKMARK') return;
          const status = toWorkflowStatus(workflow);
          if (type !== 'DELETED') return report(status);
          const last = reported.get(status.workflowName)?.status;
          reported.delete(status.workflowName);
          if (!isFinished(status) && !(last && isFinished(last)))
            onStatus({ ...status, phase: 'Error', message: 'The workflow was deleted before it finished' });
        });
        if (signal.aborted || outcome.kind === 'gone') break;
        if (outcome.kind === 'failed') this.options.onWatchError?.(outcome.error);
        // A connection that failed, or closed without delivering anything, is retried after a delay.
        if (outcome.kind === 'failed' || events === 0) await backOff();
      }
    }
  }

  private watchOnce(
    resourceVersion: string,
    signal: AbortSignal,
    onEvent: (type: string, workflow: ArgoWorkflow) => void,
  ): Promise<WatchOutcome> {
    return new Promise<WatchOutcome>((resolve) => {
      let settled = false;
      let controller: AbortController | undefined;
      const finish = (outcome: WatchOutcome) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        controller?.abort();
        resolve(outcome);
      };
      const onAbort = () => finish({ kind: 'closed' });
      signal.addEventListener('abort', onAbort, { once: true });
      const { namespace } = this.options;
      this.getClients()
        .then(({ watch }) =>
          watch.watch(
            `/apis/${ARGO_GROUP}/${ARGO_VERSION}/namespaces/${namespace}/${WORKFLOWS_PLURAL}`,
            { labelSelector: DOCFLOW_LABEL_SELECTOR, resourceVersion, allowWatchBookmarks: true },
            (type: string, object: unknown) => {
              if (settled) return;
              if (type === 'ERROR') {
                const code = (object as { code?: number } | undefined)?.code;
                finish(code === 410 ? { kind: 'gone' } : { kind: 'failed', error: object });
              } else if (
                type === 'ADDED' ||
                type === 'MODIFIED' ||
                type === 'DELETED' ||
                type === 'BOOKMARK'
              ) {
                onEvent(type, object as ArgoWorkflow);
              }
            },
            (error: unknown) => {
              if (!error) finish({ kind: 'closed' });
              else finish(httpStatusOf(error) === 410 ? { kind: 'gone' } : { kind: 'failed', error });
            },
          ),
        )
        .then(
          (started) => {
            controller = started;
            if (settled) started.abort();
          },
          (error: unknown) => finish({ kind: 'failed', error }),
        );
    });
  }

  private async getWorkflow(name: string): Promise<ArgoWorkflow | undefined> {
    const { customObjects } = await this.getClients();
    try {
      return (await customObjects.getNamespacedCustomObject({
        ...this.workflowsPath(),
        name,
      })) as ArgoWorkflow;
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw apiError(`reading Workflow ${name}`, error);
    }
  }

  private assertValid(workflow: ArgoWorkflow, what: string): void {
    this.validator.assertValid('Workflow', workflow, what);
  }

  /** A merge patch names only fields the Workflow has (strict check; `null` removes a field). */
  private assertValidPatch(patch: object, name: string): void {
    const unknown = this.validator.checkStrict('Workflow', patch);
    if (unknown.length) throw new ArgoValidationError('Workflow', unknown, `The patch of Workflow ${name}`);
  }

  private workflowsPath() {
    return {
      group: ARGO_GROUP,
      version: ARGO_VERSION,
      namespace: this.options.namespace,
      plural: WORKFLOWS_PLURAL,
    };
  }

  private getClients(): Promise<Clients> {
    this.clients ??= (
      this.options.kubernetesClient ? Promise.resolve(this.options.kubernetesClient) : loadKubernetesClient()
    ).then((k8s) => {
      let kubeConfig = this.options.kubeConfig;
      if (!kubeConfig) {
        kubeConfig = new k8s.KubeConfig();
        kubeConfig.loadFromDefault();
      }
      return {
        customObjects: kubeConfig.makeApiClient(k8s.CustomObjectsApi),
        core: kubeConfig.makeApiClient(k8s.CoreV1Api),
        watch: new k8s.Watch(kubeConfig),
        mergePatch: k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      };
    });
    return this.clients;
  }
}

/** Names the operation and the HTTP status; never carries a request body (a Secret's, for one). */
function apiError(operation: string, error: unknown): Error {
  const status = httpStatusOf(error);
  const reason = apiReason(error);
  return new Error(
    `Kubernetes API: ${operation} failed${status ? ` (HTTP ${status})` : ''}${reason ? `: ${reason}` : ''}`,
    {
      cause: error,
    },
  );
}

function apiReason(error: unknown): string | undefined {
  const body = (error as { body?: unknown } | undefined)?.body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  if (typeof message === 'string') return message;
  return error instanceof Error && httpStatusOf(error) === undefined ? error.message : undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
