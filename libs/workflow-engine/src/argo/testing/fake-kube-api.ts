import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ArgoValidator, formatArgoIssues } from '../../argo-validation/argo-validator';

/** One request the fake API server received, for assertions. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType?: string;
  authorization?: string;
  body?: unknown;
}

export interface FakeKubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    ownerReferences?: { uid: string; kind: string; name: string }[];
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

interface WatchEvent {
  resourceVersion: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: FakeKubeObject;
}

interface Watcher {
  namespace: string;
  selector: (labels: Record<string, string> | undefined) => boolean;
  response: ServerResponse;
  bookmarks: boolean;
}

/** Verbs per resource (`workflows`, `secrets`), as a Role grants them in the namespace. */
export type FakeRbacRules = Partial<Record<'workflows' | 'secrets', readonly string[]>>;

/**
 * The jobs service's Role (charts/docflow/templates/rbac.yaml, k8s/base/rbac.yaml): workflows create, get, list,
 * watch, patch; secrets create, nothing else.
 */
export const JOBS_ROLE_RULES: FakeRbacRules = {
  workflows: ['create', 'get', 'list', 'watch', 'patch'],
  secrets: ['create'],
};

/** Who the fake API server says was refused (the chart's ServiceAccount of the jobs service). */
const SUBJECT = 'system:serviceaccount:docflow:docflow-jobs';

const WORKFLOWS = /^\/apis\/argoproj\.io\/v1alpha1\/namespaces\/([^/]+)\/workflows(?:\/([^/]+))?$/;
const SECRETS = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/;
const MERGE_PATCH = 'application/merge-patch+json';

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A Kubernetes API server on loopback that speaks the paths the argo driver uses:
 * - `/apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows[/{name}]`: POST, GET, list (labelSelector),
 *   PATCH (merge-patch only: any other Content-Type is 415), DELETE, and watch (`?watch=1|true`, from a
 *   `resourceVersion`, newline-delimited JSON events, BOOKMARKs when asked, 410 Gone for a compacted version);
 * - `/api/v1/namespaces/{ns}/secrets[/{name}]`: POST, GET, PATCH (merge-patch), DELETE.
 * It authorizes every request as the jobs service's Role does ({@link JOBS_ROLE_RULES} unless `rules` says
 * otherwise): anything else is 403 Forbidden, so a PATCH, GET or DELETE of a Secret is refused. Like the
 * OwnerReferencesPermissionEnforcement admission plugin, it refuses an ownerReference with
 * `blockOwnerDeletion: true` (no Role here grants `update` on `workflows/finalizers`). `failNext` makes the next
 * matching request fail. Every Workflow it stores is validated against the CRD's openAPIV3Schema (and, with `fieldValidation=Strict`,
 * for unknown fields) and refused with 422 otherwise, as an API server does. Tests drive it: move a workflow
 * through phases (not a suspended one past Pending: the controller starts no step of it), drop the watch
 * connections, compact the event history. Deleting a workflow deletes the Secrets it owns, as Kubernetes'
 * garbage collector would.
 */
export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  private readonly workflows = new Map<string, FakeKubeObject>();
  private readonly secrets = new Map<string, FakeKubeObject>();
  private readonly history: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly watchListeners = new Set<() => void>();
  private revision = 100;
  /** Watches from a resourceVersion older than this get 410 Gone. */
  private oldestWatchable = 0;
  private server?: Server;
  private readonly failures: { method: string; resource: string; code: number; message: string }[] = [];

  constructor(
    private readonly options: { validator?: ArgoValidator; token?: string; rules?: FakeRbacRules } = {},
  ) {}

  /**
   * The next `method` request on `resource` (after authorization) fails with `code`, e.g.
   * `failNext('POST', 'secrets', 500)`; each call fails one request.
   */
  failNext(
    method: string,
    resource: 'workflows' | 'secrets',
    code: number,
    message = 'injected failure',
  ): void {
    this.failures.push({ method, resource, code, message });
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('FakeKubeApi is not started');
    return `http://127.0.0.1:${address.port}`;
  }

  /** The current resourceVersion (what a list answers with). */
  get resourceVersion(): string {
    return String(this.revision);
  }

  /** Open watch connections. */
  get watchCount(): number {
    return this.watchers.size;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    for (const watcher of this.watchers) watcher.response.destroy();
    this.watchers.clear();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = undefined;
  }

  workflow(namespace: string, name: string): FakeKubeObject | undefined {
    return structuredClone(this.workflows.get(`${namespace}/${name}`));
  }

  listWorkflows(namespace: string): FakeKubeObject[] {
    return [...this.workflows.values()]
      .filter((w) => w.metadata.namespace === namespace)
      .map((w) => structuredClone(w));
  }

  secret(namespace: string, name: string): FakeKubeObject | undefined {
    return structuredClone(this.secrets.get(`${namespace}/${name}`));
  }

  /** Plays the Argo controller: sets `status.phase` (and message, start and finish times). */
  setPhase(namespace: string, name: string, phase: string, extra: { message?: string } = {}): FakeKubeObject {
    const workflow = this.workflows.get(`${namespace}/${name}`);
    if (!workflow) throw new Error(`No workflow ${namespace}/${name}`);
    if (phase !== 'Pending' && (workflow['spec'] as { suspend?: boolean } | undefined)?.suspend === true)
      throw new Error(
        `Workflow ${namespace}/${name} is suspended: the controller would not move it to ${phase}`,
      );
    const status: Record<string, unknown> = {
      ...((workflow['status'] as Record<string, unknown>) ?? {}),
      phase,
    };
    const now = new Date().toISOString();
    if (phase !== 'Pending') status['startedAt'] ??= now;
    if (['Succeeded', 'Failed', 'Error'].includes(phase)) status['finishedAt'] = now;
    if (extra.message !== undefined) status['message'] = extra.message;
    workflow['status'] = status;
    this.touch(workflow, 'MODIFIED');
    return structuredClone(workflow);
  }

  /** Deletes a workflow (and, like the garbage collector, the Secrets it owns). */
  deleteWorkflow(namespace: string, name: string): void {
    const workflow = this.workflows.get(`${namespace}/${name}`);
    if (!workflow) throw new Error(`No workflow ${namespace}/${name}`);
    this.workflows.delete(`${namespace}/${name}`);
    this.touch(workflow, 'DELETED');
    for (const [key, secret] of this.secrets)
      if (secret.metadata.ownerReferences?.some((owner) => owner.uid === workflow.metadata.uid))
        this.secrets.delete(key);
  }

  /** Ends every open watch connection abruptly (a dropped connection, a restarted API server). */
  dropWatches(): void {
    for (const watcher of this.watchers) watcher.response.destroy();
    this.watchers.clear();
    this.notifyWatchListeners();
  }

  /** Forgets the event history, so watching from any version seen so far answers 410 Gone. */
  compactHistory(): void {
    this.history.length = 0;
    this.oldestWatchable = this.revision + 1;
  }

  /**
   * Sends a BOOKMARK with the current resourceVersion to the watches that asked for them; resolves once it
   * is written to their sockets.
   */
  async bookmark(): Promise<void> {
    const event = {
      type: 'BOOKMARK',
      object: {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Workflow',
        metadata: { resourceVersion: this.resourceVersion },
      },
    };
    await Promise.all(
      [...this.watchers]
        .filter((watcher) => watcher.bookmarks)
        .map((watcher) => new Promise<void>((resolve) => this.send(watcher.response, event, resolve))),
    );
  }

  /** Resolves once at least (or exactly) `count` watch connections are open. */
  waitForWatches(count: number, mode: 'at least' | 'exactly' = 'at least', timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (mode === 'exactly' ? this.watchers.size !== count : this.watchers.size < count) return;
        clearTimeout(timer);
        this.watchListeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.watchListeners.delete(check);
        reject(
          new Error(`Timed out waiting for ${mode} ${count} watch connection(s); ${this.watchers.size} open`),
        );
      }, timeoutMs);
      this.watchListeners.add(check);
      check();
    });
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      contentType: req.headers['content-type'],
      authorization: req.headers.authorization,
    };
    this.requests.push(recorded);
    try {
      const text = await readBody(req);
      if (text) {
        try {
          recorded.body = JSON.parse(text);
        } catch {
          throw new HttpError(400, 'BadRequest', 'the body is not JSON');
        }
      }
      if (this.options.token && req.headers.authorization !== `Bearer ${this.options.token}`)
        throw new HttpError(401, 'Unauthorized', 'Unauthorized');
      const workflows = WORKFLOWS.exec(url.pathname);
      const secrets = SECRETS.exec(url.pathname);
      const route = workflows ?? secrets;
      if (route) {
        const resource = workflows ? 'workflows' : 'secrets';
        this.authorize(recorded, resource, decodeURIComponent(route[1]), route[2]);
        const failure = this.failures.findIndex(
          (f) => f.method === recorded.method && f.resource === resource,
        );
        if (failure >= 0) {
          const { code, message } = this.failures.splice(failure, 1)[0];
          throw new HttpError(code, code === 500 ? 'InternalError' : 'Failure', message);
        }
      }
      if (workflows) this.workflowsRoute(recorded, res, decodeURIComponent(workflows[1]), workflows[2]);
      else if (secrets) this.secretsRoute(recorded, res, decodeURIComponent(secrets[1]), secrets[2]);
      else throw new HttpError(404, 'NotFound', `the server could not find the requested resource`);
    } catch (error) {
      if (error instanceof HttpError) return this.status(res, error.code, error.reason, error.message);
      this.status(res, 500, 'InternalError', error instanceof Error ? error.message : String(error));
    }
  }

  /** RBAC: 403 for a verb the rules do not grant, with the message an API server gives. */
  private authorize(
    req: RecordedRequest,
    resource: 'workflows' | 'secrets',
    namespace: string,
    name?: string,
  ) {
    const watch = req.query.get('watch');
    const verb =
      {
        POST: 'create',
        GET: name ? 'get' : watch === '1' || watch === 'true' ? 'watch' : 'list',
        PATCH: 'patch',
        PUT: 'update',
        DELETE: 'delete',
      }[req.method] ?? req.method.toLowerCase();
    const granted = (this.options.rules ?? JOBS_ROLE_RULES)[resource] ?? [];
    const group = resource === 'workflows' ? 'argoproj.io' : '';
    if (!granted.includes(verb))
      throw new HttpError(
        403,
        'Forbidden',
        `${resource}${name ? ` "${name}"` : ''} is forbidden: User "${SUBJECT}" cannot ${verb} resource ` +
          `"${resource}" in API group "${group}" in the namespace "${namespace}"`,
      );
    const owners = (req.body as FakeKubeObject | undefined)?.metadata?.ownerReferences as
      { blockOwnerDeletion?: boolean }[] | undefined;
    if (owners?.some((owner) => owner.blockOwnerDeletion === true))
      // OwnerReferencesPermissionEnforcement: the creator must be able to update the owner's finalizers.
      throw new HttpError(
        403,
        'Forbidden',
        `${resource} is forbidden: cannot set blockOwnerDeletion if an ownerReference refers to a resource you ` +
          `can't set finalizers on: User "${SUBJECT}" cannot update resource "workflows/finalizers" in API ` +
          `group "argoproj.io" in the namespace "${namespace}"`,
      );
  }

  private workflowsRoute(req: RecordedRequest, res: ServerResponse, namespace: string, name?: string): void {
    const store = this.workflows;
    if (!name && req.method === 'GET') {
      const watch = req.query.get('watch');
      if (watch === '1' || watch === 'true') return this.startWatch(req, res, namespace);
      return this.json(res, 200, {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'WorkflowList',
        metadata: { resourceVersion: String(this.revision) },
        items: this.select(store, namespace, req.query.get('labelSelector')),
      });
    }
    if (!name && req.method === 'POST') {
      const body = req.body as FakeKubeObject;
      this.validateWorkflow(body, req.query.get('fieldValidation') === 'Strict');
      return this.json(res, 201, this.create(store, namespace, body, 'workflows'));
    }
    if (name && req.method === 'GET')
      return this.json(res, 200, this.get(store, namespace, name, 'workflows'));
    if (name && req.method === 'PATCH') {
      const patched = this.patch(store, namespace, name, req, 'workflows', (candidate) =>
        this.validateWorkflow(candidate, false),
      );
      return this.json(res, 200, patched);
    }
    if (name && req.method === 'DELETE') {
      this.get(store, namespace, name, 'workflows');
      this.deleteWorkflow(namespace, name);
      return this.status(res, 200, 'Success', 'deleted');
    }
    throw new HttpError(405, 'MethodNotAllowed', `${req.method} is not allowed here`);
  }

  private secretsRoute(req: RecordedRequest, res: ServerResponse, namespace: string, name?: string): void {
    const store = this.secrets;
    if (!name && req.method === 'POST') {
      const body = req.body as FakeKubeObject;
      if (body?.kind !== 'Secret') throw new HttpError(400, 'BadRequest', 'expected a Secret');
      return this.json(res, 201, this.create(store, namespace, body, 'secrets'));
    }
    if (name && req.method === 'GET') return this.json(res, 200, this.get(store, namespace, name, 'secrets'));
    if (name && req.method === 'PATCH')
      return this.json(res, 200, this.patch(store, namespace, name, req, 'secrets'));
    if (name && req.method === 'DELETE') {
      this.get(store, namespace, name, 'secrets');
      store.delete(`${namespace}/${name}`);
      return this.status(res, 200, 'Success', 'deleted');
    }
    throw new HttpError(405, 'MethodNotAllowed', `${req.method} is not allowed here`);
  }

  private validateWorkflow(body: unknown, strict: boolean): void {
    const validator = this.options.validator ?? ArgoValidator.forDirectory();
    const issues = validator.checkCrd('Workflow', body);
    if (strict) issues.push(...validator.checkStrict('Workflow', body));
    if (issues.length)
      throw new HttpError(422, 'Invalid', `Workflow.argoproj.io is invalid:\n${formatArgoIssues(issues)}`);
  }

  private create(
    store: Map<string, FakeKubeObject>,
    namespace: string,
    body: FakeKubeObject,
    resource: string,
  ): FakeKubeObject {
    const name = body?.metadata?.name;
    if (!name) throw new HttpError(422, 'Invalid', 'metadata.name: Required value');
    const key = `${namespace}/${name}`;
    if (store.has(key)) throw new HttpError(409, 'AlreadyExists', `${resource} "${name}" already exists`);
    const object: FakeKubeObject = structuredClone(body);
    object.metadata = {
      ...object.metadata,
      namespace,
      uid: randomUUID(),
      creationTimestamp: new Date().toISOString(),
    };
    store.set(key, object);
    this.touch(object, 'ADDED', store === this.workflows);
    return structuredClone(object);
  }

  private get(
    store: Map<string, FakeKubeObject>,
    namespace: string,
    name: string,
    resource: string,
  ): FakeKubeObject {
    const object = store.get(`${namespace}/${name}`);
    if (!object) throw new HttpError(404, 'NotFound', `${resource} "${name}" not found`);
    return structuredClone(object);
  }

  private patch(
    store: Map<string, FakeKubeObject>,
    namespace: string,
    name: string,
    req: RecordedRequest,
    resource: string,
    validate?: (candidate: FakeKubeObject) => void,
  ): FakeKubeObject {
    const contentType = req.contentType?.split(';')[0].trim();
    if (contentType !== MERGE_PATCH)
      throw new HttpError(
        415,
        'UnsupportedMediaType',
        `the fake API server only takes ${MERGE_PATCH}, not ${contentType}`,
      );
    const current = this.get(store, namespace, name, resource);
    const candidate = mergePatch(current, req.body) as FakeKubeObject;
    candidate.metadata = { ...candidate.metadata, name, namespace, uid: current.metadata.uid };
    validate?.(candidate);
    store.set(`${namespace}/${name}`, candidate);
    this.touch(candidate, 'MODIFIED', store === this.workflows);
    return structuredClone(candidate);
  }

  private select(store: Map<string, FakeKubeObject>, namespace: string, labelSelector: string | null) {
    const matches = selectorFor(labelSelector);
    return [...store.values()]
      .filter((object) => object.metadata.namespace === namespace && matches(object.metadata.labels))
      .map((object) => structuredClone(object));
  }

  /** A new resourceVersion for `object`; for workflows, an event for the watches. */
  private touch(object: FakeKubeObject, type: WatchEvent['type'], watched = true): void {
    this.revision += 1;
    object.metadata.resourceVersion = String(this.revision);
    if (!watched) return;
    const event: WatchEvent = { resourceVersion: this.revision, type, object: structuredClone(object) };
    this.history.push(event);
    for (const watcher of this.watchers) this.deliver(watcher, event);
  }

  private startWatch(req: RecordedRequest, res: ServerResponse, namespace: string): void {
    const from = Number(req.query.get('resourceVersion') ?? this.revision);
    if (!Number.isFinite(from)) throw new HttpError(400, 'BadRequest', 'resourceVersion is not a number');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    if (from < this.oldestWatchable - 1) {
      // What an API server does when the version is older than its watch cache: a 200 with an ERROR event.
      this.send(res, {
        type: 'ERROR',
        object: {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: `too old resource version: ${from} (${this.oldestWatchable - 1})`,
          reason: 'Expired',
          code: 410,
        },
      });
      res.end();
      return;
    }
    const watcher: Watcher = {
      namespace,
      selector: selectorFor(req.query.get('labelSelector')),
      response: res,
      bookmarks: req.query.get('allowWatchBookmarks') === 'true',
    };
    for (const event of this.history) if (event.resourceVersion > from) this.deliver(watcher, event);
    this.watchers.add(watcher);
    res.on('close', () => {
      this.watchers.delete(watcher);
      this.notifyWatchListeners();
    });
    this.notifyWatchListeners();
  }

  private notifyWatchListeners(): void {
    for (const listener of [...this.watchListeners]) listener();
  }

  private deliver(watcher: Watcher, event: WatchEvent): void {
    if (
      event.object.metadata.namespace !== watcher.namespace ||
      !watcher.selector(event.object.metadata.labels)
    )
      return;
    this.send(watcher.response, { type: event.type, object: event.object });
  }

  private send(res: ServerResponse, event: unknown, written?: () => void): void {
    if (!res.destroyed && !res.writableEnded) res.write(`${JSON.stringify(event)}\n`, () => written?.());
    else written?.();
  }

  private json(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private status(res: ServerResponse, code: number, reason: string, message: string): void {
    this.json(res, code, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: code < 400 ? 'Success' : 'Failure',
      message,
      reason,
      code,
    });
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Equality-based selectors (`a=b,c==d,e!=f`) and existence (`g`, `!h`). */
export function selectorFor(
  selector: string | null,
): (labels: Record<string, string> | undefined) => boolean {
  const terms = (selector ?? '')
    .split(',')
    .map((term) => term.trim())
    .filter(Boolean)
    .map((term) => {
      const match = /^([^!=]+?)\s*(!=|==|=)\s*(.*)$/.exec(term);
      if (match) return { key: match[1], op: match[2], value: match[3] };
      return term.startsWith('!') ? { key: term.slice(1), op: '!exists' } : { key: term, op: 'exists' };
    });
  return (labels = {}) =>
    terms.every(({ key, op, value }) => {
      if (op === 'exists') return key in labels;
      if (op === '!exists') return !(key in labels);
      if (op === '!=') return labels[key] !== value;
      return labels[key] === value;
    });
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return structuredClone(patch);
  const result: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as object) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}
