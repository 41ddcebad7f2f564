// The deployment files checked here, without Docker, a cluster or helm: the Helm chart (tools/deploy-check/chart.js;
// namespaces.js and master-key.js on synthetic renderings, CI runs them on helm's),
// the kustomizations rendered by `kubectl kustomize` (tools/deploy-check/k8s.js), the Dockerfiles and the
// compose file. Each check is also shown to fail on a broken input.
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const CHART = join(ROOT, 'charts', 'docflow');

type Loaded = {
  chart: string;
  templates: Map<string, string>;
  values: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  schema: Record<string, unknown>;
  workflowTemplate?: string;
};
interface ChartCheck {
  checkChart(chart?: string, root?: string): string[];
  loadChart(chart: string): Loaded;
  checkValuesPaths(loaded: Loaded): string[];
  checkIncludes(loaded: Loaded): string[];
  checkSchema(loaded: Loaded): { problems: string[]; merged: Map<string, unknown> };
  checkRbac(loaded: Loaded, root?: string): string[];
  checkWorkflowNamespace(loaded: Loaded, merged?: Map<string, unknown>): string[];
  WORKFLOW_NAMESPACE_OBJECTS: string[];
  checkEnvironment(loaded: Loaded, root?: string): string[];
  checkResources(merged: Map<string, unknown>): string[];
  bytesOf(quantity: unknown): number;
  checkSemaphoreKeys(merged: Map<string, unknown>): string[];
  checkMasterKey(loaded: Loaded, merged: Map<string, unknown>): string[];
  checkSigningKeys(loaded: Loaded, merged: Map<string, unknown>): string[];
  checkWorkflowTemplate(chart: string, root?: string): string[];
  mergeValues(base: unknown, override: unknown): unknown;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sut = require('./chart.js') as ChartCheck;

const clone = <T>(value: T): T => structuredClone(value);

describe('chart check (tools/deploy-check/chart.js)', () => {
  let loaded: Loaded;
  beforeAll(() => {
    loaded = sut.loadChart(CHART);
  });
  const withTemplate = (name: string, text: string): Loaded => ({
    ...loaded,
    templates: new Map([...loaded.templates, [join(CHART, 'templates', name), text]]),
  });
  const replaceIn = (suffix: string, from: string, to: string): Loaded => {
    const [file, text] = [...loaded.templates].find(([f]) => f.endsWith(suffix))!;
    expect(text).toContain(from);
    return { ...loaded, templates: new Map([...loaded.templates, [file, text.replace(from, to)]]) };
  };

  it('passes on charts/docflow', () => {
    expect(sut.checkChart(CHART, ROOT)).toEqual([]);
  });

  it('finds a .Values path that values.yaml lacks, and a range variable path the schema lacks', () => {
    const problems = sut.checkValuesPaths(
      withTemplate(
        'broken.yaml',
        '{{ .Values.ingress.hostz }}{{ range $name, $svc := .Values.services }}{{ $svc.replicaz }}{{ end }}',
      ),
    );
    expect(problems).toEqual([
      'broken.yaml: .Values.ingress.hostz is not in values.yaml',
      'broken.yaml: $svc.replicaz (an entry of .Values.services) is not in values.schema.json',
    ]);
    expect(
      sut.checkValuesPaths(
        withTemplate(
          'named.yaml',
          '{{- $kv := index .Values.services "key-vault" }}{{ $kv.image }}{{ $kv.imagez }}',
        ),
      ),
    ).toEqual(['named.yaml: $kv.imagez (.Values.services.key-vault) is not in values.yaml']);
  });

  it('reads the .Values paths of templated env values in values.yaml too', () => {
    const bad = clone(loaded);
    bad.values.services['key-vault'].env.MASTER_KEY_ID = '{{ .Values.keyVault.masterKeyID }}';
    expect(sut.checkValuesPaths(bad)).toEqual([
      'values.yaml: services.key-vault.env.MASTER_KEY_ID reads .Values.keyVault.masterKeyID, which is not in values.yaml',
    ]);
  });

  it('finds an include of a helper nobody defines', () => {
    expect(sut.checkIncludes(withTemplate('broken.yaml', '{{ include "docflow.nothing" . }}'))).toEqual([
      'broken.yaml: include "docflow.nothing" names no defined helper',
    ]);
  });

  it('validates values.yaml and each example merged over it against the schema', () => {
    const { merged } = sut.checkSchema(loaded);
    expect([...merged.keys()]).toEqual([
      'values.yaml',
      'examples/dev.yaml',
      'examples/production.yaml',
      'examples/workflow-namespace.yaml',
    ]);

    const bad = clone(loaded);
    bad.values.secrets.storageWebhookToken = 'short';
    bad.values.ingress.hosts[0].paths.push('/api/private');
    bad.values.services.gateway.replicaz = 2;
    const problems = sut.checkSchema(bad).problems.join('\n');
    expect(problems).toContain('/secrets/storageWebhookToken');
    expect(problems).toContain('/ingress/hosts/0/paths/2 must match pattern');
    expect(problems).toContain('(replicaz)');
  });

  it('refuses an existing Secret together with chart-made workflow Secrets, and external services without URLs', () => {
    const bad = clone(loaded);
    bad.values.secrets.existingSecret = 'mine';
    bad.values.nats.bundled.enabled = false;
    const problems = sut.checkSchema(bad).problems.join('\n');
    expect(problems).toContain('/workflows/createSecrets must be equal to constant');
    expect(problems).toContain('/nats/url must NOT have fewer than 1 characters');
  });

  it('refuses a malformed master key and a half-configured master key rotation', () => {
    const expectProblems = (change: (values: Loaded['values']) => void, ...expected: string[]) => {
      const bad = clone(loaded);
      change(bad.values);
      const problems = sut.checkSchema(bad).problems.join('\n');
      for (const problem of expected) expect(problems).toContain(problem);
      return problems;
    };
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(
      sut.checkSchema({
        ...loaded,
        values: { ...clone(loaded.values), secrets: { ...loaded.values.secrets, masterKey: key } },
      }).problems,
    ).toEqual([]);
    expectProblems(
      (v) => (v.secrets.masterKey = Buffer.alloc(16).toString('base64')),
      '/secrets/masterKey must match pattern',
    );
    expectProblems(
      (v) => (v.secrets.masterKeyPrevious = key),
      '/keyVault/previousMasterKeyId must NOT have fewer than 1 characters',
    );
    expectProblems(
      (v) => (v.keyVault.previousMasterKeyId = 'v1'),
      '/secrets/masterKeyPrevious must NOT have fewer than 1 characters',
    );
    expectProblems(
      (v) => (v.keyVault.rotationJob.enabled = true),
      '/keyVault/previousMasterKeyId must NOT have fewer than 1 characters',
    );
    expectProblems((v) => (v.keyVault.masterKeyId = 'v 2'), '/keyVault/masterKeyId must match pattern');
    // With an existing Secret, master-key-previous is in it: the id alone is enough.
    const rotating = clone(loaded);
    Object.assign(rotating.values.secrets, { existingSecret: 'mine' });
    Object.assign(rotating.values.workflows, { createSecrets: false });
    Object.assign(rotating.values.keyVault, { previousMasterKeyId: 'v1', masterKeyId: 'v2' });
    rotating.values.keyVault.rotationJob.enabled = true;
    expect(sut.checkSchema(rotating).problems).toEqual([]);
  });

  it('merges values as Helm does: maps merge, lists replace, null deletes', () => {
    expect(sut.mergeValues({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: null })).toEqual({
      a: { b: 1, c: [3] },
    });
  });

  it("holds the Roles to exactly the listed rules and to the argo driver's calls", () => {
    expect(sut.checkRbac(loaded, ROOT)).toEqual([]);
    const extraVerb = sut.checkRbac(
      replaceIn(
        'rbac.yaml',
        'resources: [secrets]\n    verbs: [create]',
        'resources: [secrets]\n    verbs: [create, patch]',
      ),
      ROOT,
    );
    expect(extraVerb.join('\n')).toContain('Role jobs has');
    expect(extraVerb.join('\n')).toContain('Role jobs grants secrets [create,patch] but');
    expect(extraVerb.join('\n')).toContain('uses [create]');

    const missingWatch = sut.checkRbac(
      replaceIn('rbac.yaml', 'verbs: [create, get, list, watch, patch]', 'verbs: [create, get, list, patch]'),
      ROOT,
    );
    expect(missingWatch.join('\n')).toContain('uses [create,get,list,patch,watch]');

    expect(sut.checkRbac(withTemplate('cluster.yaml', 'kind: ClusterRole\n'), ROOT)).toEqual([
      'cluster.yaml: a ClusterRole (everything is namespaced)',
    ]);
  });

  describe('workflows.namespace: the workflow objects in a namespace of their own', () => {
    const GUARD =
      '  {{- if .Values.workflows.namespace }}\n  namespace: {{ include "docflow.workflowNamespace" . }}\n  {{- end }}\n';
    /** The template text of the object, kind/name as the check names them (TEMPLATED-jobs: <fullname>-jobs). */
    const header = (key: string) => {
      const [kind, name] = key.split('/');
      return `kind: ${kind}\nmetadata:\n  name: ${name!.replace('TEMPLATED', '{{ include "docflow.fullname" . }}')}\n`;
    };
    const fileOf = (text: string) => [...loaded.templates].find(([, t]) => t.includes(text))!;

    it('passes on the chart, and examples/workflow-namespace.yaml sets it and validates', () => {
      expect(sut.checkWorkflowNamespace(loaded, sut.checkSchema(loaded).merged)).toEqual([]);
      const { problems, merged } = sut.checkSchema(loaded);
      expect(problems).toEqual([]);
      const example = merged.get('examples/workflow-namespace.yaml') as Loaded['values'];
      expect(example.workflows).toMatchObject({ namespace: 'docflow-workflows', createNamespace: false });
      expect(loaded.values.workflows).toMatchObject({ namespace: '', createNamespace: false });
    });

    it('refuses a namespace that is no DNS label, and createNamespace without a namespace', () => {
      const problemsWith = (workflows: Record<string, unknown>) => {
        const bad = clone(loaded);
        Object.assign(bad.values.workflows, workflows);
        return sut.checkSchema(bad).problems.join('\n');
      };
      expect(problemsWith({ namespace: 'docflow-workflows', createNamespace: true })).toBe('');
      expect(problemsWith({ namespace: 'Docflow_Workflows' })).toContain(
        '/workflows/namespace must match pattern',
      );
      expect(problemsWith({ namespace: '-docflow' })).toContain('/workflows/namespace must match pattern');
      expect(problemsWith({ namespace: 'a'.repeat(64) })).toContain(
        '/workflows/namespace must NOT have more than 63 characters',
      );
      expect(problemsWith({ createNamespace: true })).toContain(
        '/workflows/namespace must NOT have fewer than 1 characters',
      );
    });

    it.each([...sut.WORKFLOW_NAMESPACE_OBJECTS])(
      'fails when %s does not render into the workflows namespace',
      (key) => {
        const text = `${header(key)}${GUARD}`;
        const [file, source] = fileOf(text);
        const broken = {
          ...loaded,
          templates: new Map([...loaded.templates, [file, source.replace(text, header(key))]]),
        };
        const label = key.replace('TEMPLATED', '<fullname>');
        expect(sut.checkWorkflowNamespace(broken)).toEqual([
          expect.stringMatching(
            new RegExp(
              `^[a-z-]+\\.yaml: ${label.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} must be in the workflows' namespace .* it has none$`,
            ),
          ),
        ]);
        // And into the release's namespace, explicitly, is wrong as well.
        const released = source.replace(text, `${header(key)}  namespace: {{ .Release.Namespace }}\n`);
        expect(
          sut.checkWorkflowNamespace({
            ...loaded,
            templates: new Map([...loaded.templates, [file, released]]),
          }),
        ).toEqual([expect.stringContaining(`${label} must be in the workflows' namespace`)]);
      },
    );

    it('fails when anything else of the platform (the Secret with the master key, a Deployment) goes there', () => {
      const secret = replaceIn(
        'config.yaml',
        '  name: {{ include "docflow.secretName" . }}\n',
        `  name: {{ include "docflow.secretName" . }}\n${GUARD}`,
      );
      expect(sut.checkWorkflowNamespace(secret)).toEqual([
        expect.stringMatching(
          /^config\.yaml: Secret\/<fullname> renders into the workflows' namespace: only /,
        ),
      ]);
      const deployment = replaceIn(
        'deployments.yaml',
        '  name: {{ include "docflow.fullname" $ }}-{{ $name }}\n',
        '  name: {{ include "docflow.fullname" $ }}-{{ $name }}\n  namespace: {{ include "docflow.workflowNamespace" $ }}\n',
      );
      expect(sut.checkWorkflowNamespace(deployment)).toEqual([
        expect.stringContaining(
          "deployments.yaml: Deployment/<fullname>-<fullname> renders into the workflows' namespace",
        ),
        // And unguarded, it would be there whatever workflows.namespace says.
        expect.stringMatching(/^deployments\.yaml:\d+: the metadata\.namespace line must stand alone under/),
      ]);
    });

    it('wants the namespace line under `if .Values.workflows.namespace` alone (the default rendering as before)', () => {
      const wrongGuard = replaceIn(
        'workflows.yaml',
        `  name: docflow-s3\n${GUARD}`,
        `  name: docflow-s3\n${GUARD.replace('workflows.namespace', 'workflows.createNamespace')}`,
      );
      expect(sut.checkWorkflowNamespace(wrongGuard)).toEqual([
        expect.stringMatching(/^workflows\.yaml:\d+: the metadata\.namespace line must stand alone under/),
      ]);
    });

    it('holds both Roles and RoleBindings to the workflows namespace, and the jobs subject to the release namespace', () => {
      const jobsSubject = replaceIn(
        'rbac.yaml',
        '    name: {{ include "docflow.fullname" . }}-jobs\n    namespace: {{ .Release.Namespace }}',
        '    name: {{ include "docflow.fullname" . }}-jobs\n    namespace: {{ include "docflow.workflowNamespace" . }}',
      );
      expect(sut.checkRbac(jobsSubject, ROOT)).toEqual([
        'RoleBinding jobs binds [{"kind":"ServiceAccount","name":"<fullname>-jobs","namespace":"WORKFLOWS_NAMESPACE"}], expected exactly [{"kind":"ServiceAccount","name":"<fullname>-jobs","namespace":"RELEASE_NAMESPACE"}]',
      ]);
      const workflowSubject = replaceIn(
        'rbac.yaml',
        '    name: docflow-workflow\n    namespace: {{ include "docflow.workflowNamespace" . }}',
        '    name: docflow-workflow\n    namespace: {{ .Release.Namespace }}',
      );
      expect(sut.checkRbac(workflowSubject, ROOT)).toEqual([
        expect.stringContaining(
          'RoleBinding docflow-workflow binds [{"kind":"ServiceAccount","name":"docflow-workflow","namespace":"RELEASE_NAMESPACE"}]',
        ),
      ]);
      const jobsRole = replaceIn(
        'rbac.yaml',
        `${header('Role/TEMPLATED-jobs')}${GUARD}`,
        header('Role/TEMPLATED-jobs'),
      );
      expect(sut.checkRbac(jobsRole, ROOT)).toEqual([
        "Role jobs is in the release's namespace (none given), expected the workflows' namespace",
      ]);
      const jobsBinding = replaceIn(
        'rbac.yaml',
        `${header('RoleBinding/TEMPLATED-jobs')}${GUARD}`,
        `${header('RoleBinding/TEMPLATED-jobs')}  namespace: {{ .Release.Namespace }}\n`,
      );
      expect(sut.checkRbac(jobsBinding, ROOT)).toEqual([
        "RoleBinding jobs is in the release's namespace, expected the workflows' namespace (its Role's)",
      ]);
    });

    it('gives the WorkflowTemplate the namespace through docflow.workflowTemplate, on the file as it is', () => {
      const direct = replaceIn(
        'workflows.yaml',
        '{{ include "docflow.workflowTemplate" . }}',
        '{{ .Files.Get "files/docflow-transform.yaml" }}',
      );
      expect(sut.checkWorkflowNamespace(direct)).toEqual([
        'workflows.yaml: reads files/docflow-transform.yaml itself: include "docflow.workflowTemplate" (it adds workflows.namespace)',
        'no template includes "docflow.workflowTemplate" (the WorkflowTemplate)',
      ]);
      expect(loaded.workflowTemplate).toContain('\nmetadata:\n  name: docflow-transform\n');
      const moved = {
        ...loaded,
        workflowTemplate: loaded.workflowTemplate!.replace(
          '\nmetadata:\n  name: docflow-transform\n',
          '\nmetadata:\n  name: docflow-transform # the template\n',
        ),
      };
      expect(sut.checkWorkflowNamespace(moved)).toEqual([
        'files/docflow-transform.yaml: "\\nmetadata:\\n  name: docflow-transform\\n" (where docflow.workflowTemplate adds the namespace) occurs 0 times, not once',
      ]);
      const ownNamespace = {
        ...loaded,
        workflowTemplate: loaded.workflowTemplate!.replace(
          '\nmetadata:\n  name: docflow-transform\n',
          '\nmetadata:\n  name: docflow-transform\n  namespace: docflow\n',
        ),
      };
      expect(sut.checkWorkflowNamespace(ownNamespace)).toEqual([
        expect.stringContaining('is not one WorkflowTemplate in the workflows'),
        'files/docflow-transform.yaml: has a namespace of its own (the chart gives it one)',
      ]);
      const unguarded = replaceIn(
        '_helpers.tpl',
        '{{- if .Values.workflows.namespace -}}\n{{- $anchor',
        '{{- if .Values.workflows.createNamespace -}}\n{{- $anchor',
      );
      expect(sut.checkWorkflowNamespace(unguarded)).toEqual([
        expect.stringContaining('_helpers.tpl: docflow.workflowTemplate does not add metadata.namespace'),
      ]);
    });

    it("wants the jobs service's ARGO_NAMESPACE to be the workflows namespace, in values.yaml and every example", () => {
      const bad = clone(loaded.values);
      bad.services.jobs.env.ARGO_NAMESPACE = '{{ .Release.Namespace }}';
      expect(sut.checkWorkflowNamespace(loaded, new Map([['examples/x.yaml', bad]]))).toEqual([
        `examples/x.yaml: services.jobs.env.ARGO_NAMESPACE must be '{{ include "docflow.workflowNamespace" . }}' (where the chart puts the WorkflowTemplate, its ConfigMaps and Secrets, and the jobs Role), not "{{ .Release.Namespace }}"`,
      ]);
    });

    it("wants the steps' addresses qualified with the release's namespace", () => {
      const shortUrl = replaceIn(
        'workflows.yaml',
        'include "docflow.workflowPrivateApiUrl" .',
        'include "docflow.privateApiUrl" .',
      );
      expect(sut.checkWorkflowNamespace(shortUrl)).toEqual([
        expect.stringContaining('workflows.yaml: docflow-worker-config takes docflow.privateApiUrl'),
      ]);
      const shortMinio = replaceIn(
        '_helpers.tpl',
        'printf "http://%s-minio.%s.svc:9000" (include "docflow.fullname" .) .Release.Namespace',
        'printf "http://%s-minio:9000" (include "docflow.fullname" .)',
      );
      expect(sut.checkWorkflowNamespace(shortMinio)).toEqual([
        '_helpers.tpl: docflow.workflowS3Endpoint does not qualify its address with .Release.Namespace (<name>.%s.svc) when workflows.namespace is set',
      ]);
    });

    it('admits worker pods of the workflows namespace to the private port, and no pod of another namespace to the data stores', () => {
      const noPeer = replaceIn(
        'networkpolicy.yaml',
        '        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: {{ include "docflow.workflowNamespace" $ }}\n          podSelector:',
        '        - podSelector:',
      );
      expect(sut.checkWorkflowNamespace(noPeer)).toEqual([
        expect.stringContaining(
          "networkpolicy.yaml: NetworkPolicy/<fullname>-<fullname>-private admits no worker pods of the workflows' namespace",
        ),
      ]);
      const anyPod = replaceIn(
        'networkpolicy.yaml',
        'kubernetes.io/metadata.name: {{ include "docflow.workflowNamespace" $ }}\n          podSelector:\n            matchLabels:\n              app.kubernetes.io/part-of: docflow\n              app.kubernetes.io/component: worker',
        'kubernetes.io/metadata.name: {{ include "docflow.workflowNamespace" $ }}\n          podSelector: {}',
      );
      expect(sut.checkWorkflowNamespace(anyPod)).toHaveLength(1);
      const openStore = replaceIn(
        'networkpolicy-data.yaml',
        '        - podSelector:\n            matchLabels:\n              app.kubernetes.io/instance',
        '        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: {{ include "docflow.workflowNamespace" $ }}\n          podSelector:\n            matchLabels:\n              app.kubernetes.io/instance',
      );
      expect(sut.checkWorkflowNamespace(openStore)).toEqual([
        expect.stringMatching(
          /^networkpolicy-data\.yaml: NetworkPolicy\/<fullname>-<fullname>-clients admits \{"namespaceSelector".*: only pods of its own namespace/,
        ),
      ]);
      const workers = replaceIn('networkpolicy-data.yaml', 'values: [worker, minio]', 'values: [minio]');
      expect(sut.checkWorkflowNamespace(workers)).toEqual([
        expect.stringContaining('-clients admits {"podSelector"'),
      ]);
    });
  });

  it('names environment variables that the service does not read', () => {
    const bad = clone(loaded);
    bad.values.services['users-docs'].env.DB_POOL = '5';
    bad.values.workflows.workerConfig.DOCFLOW_TIMEOUT = '1';
    expect(sut.checkEnvironment(bad, ROOT)).toEqual([
      'services.users-docs: DB_POOL is not a field of apps/users-docs/src/config.ts',
      'workflows.workerConfig: DOCFLOW_TIMEOUT is not a field of apps/worker/src/config.ts',
    ]);
  });

  it('caps memory at 4 GiB and wants an HPA and a PDB for every service', () => {
    const bad = clone(loaded.values);
    bad.services.jobs.resources.limits.memory = '5Gi';
    bad.services.gateway.podDisruptionBudget.enabled = false;
    bad.redis.bundled.resources.limits.memory = '8Gi';
    bad.keyVault.rotationJob.resources.limits.memory = '4097Mi';
    expect(sut.checkResources(new Map([['values.yaml', bad]]))).toEqual([
      'values.yaml: services.jobs memory limit 5Gi is not at most 4Gi',
      'values.yaml: redis.bundled memory limit 8Gi is not at most 4Gi',
      'values.yaml: keyVault.rotationJob memory limit 4097Mi is not at most 4Gi',
      'values.yaml: services.gateway has no PodDisruptionBudget',
    ]);
  });

  it('refuses memory above 4Gi in every resources block of values.schema.json', () => {
    // Every `resources` the values have, found by walking them (services, bundled dependencies, jobs, hooks).
    const blocks: string[][] = [];
    const walk = (node: unknown, path: string[]) => {
      if (typeof node !== 'object' || node === null || Array.isArray(node)) return;
      for (const [key, child] of Object.entries(node)) {
        if (key === 'resources' && typeof child === 'object' && child && 'limits' in child)
          blocks.push([...path, key]);
        else walk(child, [...path, key]);
      }
    };
    walk(loaded.values, []);
    expect(blocks.map((b) => b.join('.'))).toEqual(
      expect.arrayContaining([
        'services.jobs.resources',
        'services.identity.resources',
        'keyVault.rotationJob.resources',
        'redis.bundled.resources',
        'nats.bundled.resources',
        'postgresql.bundled.resources',
        'objectStorage.bundled.resources',
        'migrations.resources',
      ]),
    );
    const resourcesAt = (values: Loaded['values'], path: string[]) =>
      path.reduce((node, key) => node[key], values) as Record<'limits' | 'requests', { memory: unknown }>;
    // 8Gi everywhere at once (the validator reports every error): each block's requests and limits are refused.
    const bad = clone(loaded);
    for (const path of blocks) {
      resourcesAt(bad.values, path).limits.memory = '8Gi';
      resourcesAt(bad.values, path).requests.memory = '8Gi';
    }
    const problems = sut.checkSchema(bad).problems;
    const expected = blocks.flatMap((path) =>
      ['requests', 'limits'].map(
        (part) =>
          `values.yaml against values.schema.json: /${path.join('/')}/${part}/memory must match pattern`,
      ),
    );
    expect(expected.filter((problem) => !problems.some((p) => p.startsWith(problem)))).toEqual([]);

    // The values themselves, against the definition every block uses (its pattern for strings, maximum for numbers).
    const definition = (loaded.schema['definitions'] as Record<string, { pattern: string; maximum: number }>)[
      'memory'
    ];
    const pattern = new RegExp(definition.pattern);
    const accepts = (value: string | number) =>
      typeof value === 'number' ? value >= 0 && value <= definition.maximum : pattern.test(value);
    const fine = [
      '4Gi',
      '4.0Gi',
      '3.5Gi',
      '4096Mi',
      '768Mi',
      '4194304Ki',
      '4.29G',
      '4G',
      '4294M',
      '1000M',
      4294967296,
    ];
    expect(fine.filter((value) => !accepts(value))).toEqual([]);
    const tooMuch = [
      '8Gi',
      '4.5Gi',
      '4097Mi',
      '10000Mi',
      '4194305Ki',
      '4.3G',
      '5G',
      '4295M',
      '1Ti',
      '512m',
      '2147483648',
      4294967297,
    ];
    expect(tooMuch.filter(accepts)).toEqual([]);
    // Sound: whatever the pattern takes is at most 4Gi.
    const over: string[] = [];
    for (const unit of ['Gi', 'Mi', 'Ki', 'G', 'M'])
      for (let n = 0; n <= 5_000_000; n += n < 5000 ? 1 : 997)
        for (const quantity of [`${n}${unit}`, `${n}.5${unit}`, `${n / 1000}${unit}`])
          if (pattern.test(quantity) && !(sut.bytesOf(quantity) <= 4 * 1024 ** 3)) over.push(quantity);
    expect(over).toEqual([]);
  });

  it('wants SEMAPHORE_KEYS rendered from the keys of workflows.semaphores, which has default', () => {
    expect(sut.checkSemaphoreKeys(new Map([['values.yaml', loaded.values]]))).toEqual([]);
    const bad = clone(loaded.values);
    bad.services.jobs.env.SEMAPHORE_KEYS = 'default,team-acme';
    delete bad.workflows.semaphores.default;
    expect(sut.checkSemaphoreKeys(new Map([['examples/x.yaml', bad]]))).toEqual([
      `examples/x.yaml: services.jobs.env.SEMAPHORE_KEYS must be '{{ keys .Values.workflows.semaphores | sortAlpha | join "," }}' (the keys of workflows.semaphores)`,
      'examples/x.yaml: workflows.semaphores has no key default',
    ]);
  });

  it('gives the master key to key-vault alone', () => {
    const { merged } = sut.checkSchema(loaded);
    expect(sut.checkMasterKey(loaded, merged)).toEqual([]);

    const bad = clone(loaded.values);
    bad.services['users-docs'].secretEnv.MASTER_KEY = 'master-key';
    bad.services.jobs.secretEnv.OLD_KEY = { key: 'master-key-previous', optional: true };
    bad.services.gateway.extraEnv = [
      { name: 'X', valueFrom: { secretKeyRef: { name: 'docflow-secrets', key: 'master-key' } } },
    ];
    bad.services['user-details'].env.MASTER_KEY_ID = 'v1';
    delete bad.services['key-vault'].secretEnv.MASTER_KEY;
    expect(sut.checkMasterKey(loaded, new Map([['values.yaml', bad]]))).toEqual([
      'values.yaml: services.gateway names the Secret key master-key (X): only key-vault may',
      'values.yaml: services.users-docs names the Secret key master-key (MASTER_KEY): only key-vault may',
      'values.yaml: services.jobs names the Secret key master-key-previous (OLD_KEY): only key-vault may',
      'values.yaml: services.key-vault does not take MASTER_KEY from the Secret key master-key',
      'values.yaml: services.user-details sets MASTER_KEY_ID: only key-vault may',
    ]);

    const leaking = (name: string, text: string) =>
      sut.checkMasterKey(
        { ...loaded, templates: new Map([[join(CHART, 'templates', name), text]]) },
        new Map(),
      );
    expect(
      leaking(
        'sidecar.yaml',
        "env:\n  - { name: K, valueFrom: { secretKeyRef: { name: s, key: 'master-key' } } }\n",
      ),
    ).toEqual(["sidecar.yaml: names the Secret key master-key: only key-vault's services entry may"]);
    expect(
      leaking('migrate-job.yaml', 'valueFrom:\n  secretKeyRef:\n    name: s\n    key: master-key-previous\n'),
    ).toEqual([
      "migrate-job.yaml: names the Secret key master-key-previous: only key-vault's services entry may",
    ]);
    expect(leaking('whole.yaml', 'envFrom:\n  - secretRef:\n      name: docflow-secrets\n')).toEqual([
      'whole.yaml: envFrom secretRef hands a whole Secret (with the master key) to a pod',
    ]);
    expect(
      leaking('mounted.yaml', 'volumes:\n  - name: s\n    secret:\n      secretName: docflow-secrets\n'),
    ).toEqual(['mounted.yaml: a secret volume hands a whole Secret (with the master key) to a pod']);
    expect(
      leaking(
        'copy.yaml',
        '{{- $kv := index .Values.services "key-vault" }}{{ include "docflow.env" (dict "root" . "service" $kv) }}',
      ),
    ).toEqual(['copy.yaml: uses the key-vault services entry (its environment holds the master key)']);
  });

  it("gives identity's signing keys and the bootstrap admin's password to identity alone", () => {
    const { merged } = sut.checkSchema(loaded);
    expect(sut.checkSigningKeys(loaded, merged)).toEqual([]);

    const bad = clone(loaded.values);
    bad.services.gateway.secretEnv.JWKS = 'jwt-signing-keys';
    bad.services['user-details'].extraEnv = [
      {
        name: 'P',
        valueFrom: { secretKeyRef: { name: 'docflow-secrets', key: 'bootstrap-admin-password' } },
      },
    ];
    bad.services.jobs.env.JWT_DEV_KEY_FILE = '/tmp/k.json';
    delete bad.services.identity.secretEnv.JWT_SIGNING_KEYS;
    expect(sut.checkSigningKeys(loaded, new Map([['values.yaml', bad]]))).toEqual([
      'values.yaml: services.gateway names the Secret key jwt-signing-keys (JWKS): only identity may',
      'values.yaml: services.jobs sets JWT_DEV_KEY_FILE: only identity may',
      'values.yaml: services.user-details names the Secret key bootstrap-admin-password (P): only identity may',
      'values.yaml: services.identity does not take JWT_SIGNING_KEYS from the Secret key jwt-signing-keys',
    ]);

    const leaking = (name: string, text: string) =>
      sut.checkSigningKeys(
        { ...loaded, templates: new Map([[join(CHART, 'templates', name), text]]) },
        new Map(),
      );
    expect(
      leaking('migrate-job.yaml', 'valueFrom:\n  secretKeyRef:\n    name: s\n    key: jwt-signing-keys\n'),
    ).toEqual([
      "migrate-job.yaml: names the Secret key jwt-signing-keys: only identity's services entry may",
    ]);
    expect(leaking('copy.yaml', '{{- $id := index .Values.services "identity" }}')).toEqual([
      'copy.yaml: uses the identity services entry (its environment holds the signing keys)',
    ]);
  });

  it('wants the WorkflowTemplate as a link to argo-templates/, never a copy', () => {
    const chart = mkdtempSync(join(tmpdir(), 'docflow-chart-'));
    try {
      mkdirSync(join(chart, 'files'));
      copyFileSync(
        join(ROOT, 'argo-templates/docflow-transform.yaml'),
        join(chart, 'files/docflow-transform.yaml'),
      );
      expect(sut.checkWorkflowTemplate(chart, ROOT)).toEqual([
        expect.stringContaining('must be a link to argo-templates/docflow-transform.yaml, not a copy'),
      ]);
      rmSync(join(chart, 'files/docflow-transform.yaml'));
      symlinkSync(
        join(ROOT, 'argo-templates/docflow-transform.yaml'),
        join(chart, 'files/docflow-transform.yaml'),
      );
      expect(sut.checkWorkflowTemplate(chart, ROOT)).toEqual([]);
    } finally {
      rmSync(chart, { recursive: true, force: true });
    }
  });
});

describe('kustomize check (tools/deploy-check/k8s.js)', () => {
  const check = async (...args: string[]) => {
    try {
      const { stdout } = await run(process.execPath, [join(ROOT, 'tools/deploy-check/k8s.js'), ...args], {
        cwd: ROOT,
        maxBuffer: 16 * 1024 * 1024,
      });
      return { code: 0, stdout };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: `${e.stdout}${e.stderr}` };
    }
  };

  it('renders k8s/base and k8s/overlays/dev, and every object validates', async () => {
    const { code, stdout } = await check();
    expect({ code, invalid: stdout.split('\n').filter((l) => l.startsWith('INVALID')) }).toEqual({
      code: 0,
      invalid: [],
    });
    for (const object of [
      'k8s/overlays/dev: WorkflowTemplate/docflow-transform',
      'k8s/overlays/dev: Deployment/docflow-gateway',
      'k8s/overlays/dev: Role/docflow-jobs',
      'k8s/overlays/dev: NetworkPolicy/docflow-gateway-private',
      'k8s/base: Job/docflow-users-docs-migrate',
      'k8s/base: Deployment/docflow-key-vault',
      'k8s/base: Deployment/docflow-user-details',
      'k8s/base: Deployment/docflow-identity',
      'k8s/base: Job/docflow-key-vault-migrate',
      'k8s/base: Job/docflow-user-details-migrate',
    ]) {
      expect(stdout).toContain(`ok      ${object}`);
    }
  });

  it('fails on invalid objects, unsafe pods, dangling references and a wrong WorkflowTemplate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'docflow-kustomize-'));
    try {
      const template = parse(readFileSync(join(ROOT, 'argo-templates/docflow-transform.yaml'), 'utf8'));
      template.spec.templates[1].retryStategy = { limit: '1' };
      writeFileSync(join(dir, 'template.json'), JSON.stringify(template));
      writeFileSync(
        join(dir, 'objects.yaml'),
        [
          'apiVersion: apps/v1',
          'kind: Deployment',
          'metadata: { name: broken, labels: { app.kubernetes.io/component: gateway } }',
          'spec:',
          "  replicas: 'two'",
          '  selector: { matchLabels: { a: b } }',
          '  template:',
          '    metadata: { labels: { a: b } }',
          '    spec:',
          '      containers:',
          '        - name: c',
          '          image: i',
          '          envFrom: [{ configMapRef: { name: nowhere } }]',
          '          env: [{ name: NOT_A_SETTING, value: x }, { name: K, valueFrom: { secretKeyRef: { name: s, key: master-key } } }]',
          '          resources: { limits: { cpu: 1, memory: 8Gi }, requests: { cpu: 1, memory: 1Gi } }',
          '---',
          'apiVersion: v1',
          'kind: ConfigMap',
          'metadata: { name: docflow-semaphores }',
          "data: { default: '1', team-a: '2' }",
          '---',
          'apiVersion: apps/v1',
          'kind: Deployment',
          'metadata: { name: jobs, labels: { app.kubernetes.io/component: jobs } }',
          'spec:',
          '  selector: { matchLabels: { a: b } }',
          '  template:',
          '    metadata: { labels: { a: b } }',
          '    spec:',
          '      containers:',
          "        - { name: jobs, image: i, env: [{ name: SEMAPHORE_KEYS, value: 'default,team-b' }] }",
          '---',
          'apiVersion: apps/v1',
          'kind: Deployment',
          'metadata: { name: identity, labels: { app.kubernetes.io/component: identity } }',
          'spec:',
          '  selector: { matchLabels: { a: b } }',
          '  template:',
          '    metadata: { labels: { a: b } }',
          '    spec:',
          '      containers:',
          '        - { name: id, image: i, env: [{ name: NOT_AN_IDENTITY_SETTING, value: x }] }',
        ].join('\n'),
      );
      writeFileSync(join(dir, 'kustomization.yaml'), 'resources: [objects.yaml, template.json]\n');
      const { code, stdout } = await check(dir);
      expect(code).toBe(1);
      for (const problem of [
        'data/spec/replicas must be integer',
        'the pod does not set runAsNonRoot: true',
        'container c memory limit 8Gi is above 4Gi',
        'container c has a writable root filesystem',
        'container c has no liveness or readiness probe',
        'names ConfigMap nowhere, which the rendering does not contain',
        'container c: NOT_A_SETTING is not a field of apps/gateway/src/config.ts',
        'names the Secret key master-key: only key-vault may',
        'the rendering\n  - no key-vault Deployment takes MASTER_KEY from the Secret key master-key',
        'retryStategy',
        'names ConfigMap docflow-worker-config, which the rendering does not contain',
        'container jobs: SEMAPHORE_KEYS (default,team-b) must be the keys of ConfigMap docflow-semaphores (default,team-a)',
        'container id has no liveness or readiness probe',
        'container id: NOT_AN_IDENTITY_SETTING is not a field of apps/identity/src/config.ts',
      ]) {
        expect(stdout).toContain(problem);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('master key check on rendered manifests (tools/deploy-check/master-key.js)', () => {
  interface MasterKeyCheck {
    masterKeyProblems(objects: unknown[], where?: string): string[];
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sut = require('./master-key.js') as MasterKeyCheck;
  const workload = (kind: string, name: string, component: string, spec: Record<string, unknown>) => ({
    kind,
    metadata: { name, labels: { 'app.kubernetes.io/component': component } },
    spec: { template: { spec } },
  });
  const fromSecret = (name: string, key: string) => ({
    name,
    valueFrom: { secretKeyRef: { name: 's', key } },
  });
  const keyVaultEnv = [
    fromSecret('MASTER_KEY', 'master-key'),
    fromSecret('MASTER_KEY_PREVIOUS', 'master-key-previous'),
  ];
  const keyVault = workload('Deployment', 'kv', 'key-vault', {
    containers: [{ name: 'kv', env: keyVaultEnv }],
  });
  const secret = {
    kind: 'Secret',
    metadata: { name: 's' },
    stringData: { 'master-key': 'x', 'database-url': 'y' },
  };

  it('passes key-vault and its rotation Job, and finds any other workload that reaches the master key', () => {
    const rotate = workload('Job', 'rotate', 'key-vault-rotate', {
      containers: [{ name: 'r', env: keyVaultEnv }],
    });
    const fine = workload('Deployment', 'ok', 'users-docs', {
      containers: [
        {
          name: 'c',
          env: [fromSecret('DATABASE_URL', 'database-url')],
          envFrom: [{ secretRef: { name: 'other' } }],
        },
      ],
    });
    const other = { kind: 'Secret', metadata: { name: 'other' }, data: { token: 'eA==' } };
    expect(sut.masterKeyProblems([secret, other, keyVault, rotate, fine])).toEqual([]);

    const migrate = workload('Job', 'migrate', 'migrate', {
      containers: [{ name: 'm', env: [fromSecret('K', 'master-key-previous')] }],
    });
    const envFrom = workload('Deployment', 'whole', 'jobs', {
      containers: [{ name: 'c', envFrom: [{ secretRef: { name: 's' } }] }],
    });
    const volume = workload('Deployment', 'mounted', 'gateway', {
      containers: [{ name: 'c' }],
      volumes: [
        { name: 'v', secret: { secretName: 'unknown' } },
        { name: 'w', secret: { secretName: 's', items: [{ key: 'master-key', path: 'k' }] } },
      ],
    });
    expect(sut.masterKeyProblems([secret, migrate, envFrom, volume], 'x: ')).toEqual([
      'x: Job/migrate names the Secret key master-key-previous: only key-vault may',
      'x: Deployment/whole takes the whole Secret s, which holds the master key',
      'x: Deployment/mounted names the Secret key master-key: only key-vault may',
      'x: Deployment/mounted takes the whole Secret unknown, which may hold the master key',
      'x: no key-vault Deployment takes MASTER_KEY from the Secret key master-key',
    ]);
  });
});

describe('signing keys check on rendered manifests (tools/deploy-check/master-key.js)', () => {
  interface SigningKeysCheck {
    masterKeyProblems(objects: unknown[], where: string, report: unknown): string[];
    signingKeysReport: unknown;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sut = require('./master-key.js') as SigningKeysCheck;
  const workload = (kind: string, name: string, component: string, env: unknown[]) => ({
    kind,
    metadata: { name, labels: { 'app.kubernetes.io/component': component } },
    spec: { template: { spec: { containers: [{ name: 'c', env }] } } },
  });
  const fromSecret = (name: string, key: string) => ({
    name,
    valueFrom: { secretKeyRef: { name: 's', key } },
  });
  const secret = {
    kind: 'Secret',
    metadata: { name: 's' },
    stringData: { 'jwt-signing-keys': '[]', 'database-url': 'y' },
  };
  const identity = workload('Deployment', 'id', 'identity', [
    fromSecret('JWT_SIGNING_KEYS', 'jwt-signing-keys'),
    fromSecret('BOOTSTRAP_ADMIN_PASSWORD', 'bootstrap-admin-password'),
  ]);

  it('passes identity, and finds any other workload that reaches the signing keys, and a rendering without them', () => {
    const fine = workload('Deployment', 'gw', 'gateway', [fromSecret('DATABASE_URL', 'database-url')]);
    expect(sut.masterKeyProblems([secret, identity, fine], '', sut.signingKeysReport)).toEqual([]);
    const migrate = workload('Job', 'identity-migrate', 'migrate', [fromSecret('K', 'jwt-signing-keys')]);
    const gateway = workload('Deployment', 'gw', 'gateway', [fromSecret('P', 'bootstrap-admin-password')]);
    expect(sut.masterKeyProblems([secret, migrate, gateway], 'x: ', sut.signingKeysReport)).toEqual([
      'x: Job/identity-migrate names the Secret key jwt-signing-keys: only identity may',
      'x: Deployment/gw names the Secret key bootstrap-admin-password: only identity may',
      'x: no identity Deployment takes JWT_SIGNING_KEYS from the Secret key jwt-signing-keys',
    ]);
  });
});

describe('workflows.namespace on rendered manifests (tools/deploy-check/namespaces.js)', () => {
  interface NamespacesCheck {
    namespaceProblems(
      objects: unknown[],
      namespaces: { release: string; workflows: string },
      where?: string,
    ): string[];
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sut = require('./namespaces.js') as NamespacesCheck;
  const namespaces = { release: 'docflow', workflows: 'docflow-workflows' };
  const worker = { 'app.kubernetes.io/part-of': 'docflow', 'app.kubernetes.io/component': 'worker' };
  /** What `helm template --namespace docflow -f examples/dev.yaml -f examples/workflow-namespace.yaml` gives, in short. */
  const rendering = () => {
    const inWorkflows = (kind: string, name: string, rest: Record<string, unknown> = {}) => ({
      kind,
      metadata: { name, namespace: 'docflow-workflows' },
      ...rest,
    });
    return [
      inWorkflows('WorkflowTemplate', 'docflow-transform'),
      inWorkflows('ConfigMap', 'docflow-semaphores', { data: { default: '2' } }),
      inWorkflows('ConfigMap', 'docflow-worker-config', {
        data: {
          DOCFLOW_CALLBACK_URL: 'http://docflow-gateway-private.docflow.svc:8081/api/private',
          S3_ENDPOINT: 'http://docflow-minio.docflow.svc:9000',
        },
      }),
      inWorkflows('Secret', 'docflow-s3'),
      inWorkflows('ServiceAccount', 'docflow-workflow'),
      inWorkflows('Role', 'docflow-workflow'),
      inWorkflows('RoleBinding', 'docflow-workflow', {
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'docflow-workflow' },
        subjects: [{ kind: 'ServiceAccount', name: 'docflow-workflow', namespace: 'docflow-workflows' }],
      }),
      inWorkflows('Role', 'docflow-jobs'),
      inWorkflows('RoleBinding', 'docflow-jobs', {
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'docflow-jobs' },
        subjects: [{ kind: 'ServiceAccount', name: 'docflow-jobs', namespace: 'docflow' }],
      }),
      { kind: 'ServiceAccount', metadata: { name: 'docflow-jobs' } },
      { kind: 'Secret', metadata: { name: 'docflow-secrets' } },
      { kind: 'ConfigMap', metadata: { name: 'docflow-config' } },
      {
        kind: 'Deployment',
        metadata: { name: 'docflow-jobs', labels: { 'app.kubernetes.io/component': 'jobs' } },
        spec: {
          template: {
            spec: {
              containers: [{ name: 'jobs', env: [{ name: 'ARGO_NAMESPACE', value: 'docflow-workflows' }] }],
            },
          },
        },
      },
      {
        kind: 'NetworkPolicy',
        metadata: { name: 'docflow-gateway-private' },
        spec: {
          ingress: [
            {
              from: [
                {
                  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'docflow-workflows' } },
                  podSelector: { matchLabels: worker },
                },
                { podSelector: { matchLabels: { 'app.kubernetes.io/component': 'minio' } } },
              ],
            },
          ],
        },
      },
      {
        kind: 'NetworkPolicy',
        metadata: { name: 'docflow-nats-clients' },
        spec: {
          ingress: [
            { from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'docflow' } } }] },
          ],
        },
      },
    ] as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const find = (objects: ReturnType<typeof rendering>, kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name === name)!;

  it('passes a rendering with the workflow objects in their namespace and the rest in the release one', () => {
    expect(sut.namespaceProblems(rendering(), namespaces)).toEqual([]);
    const created = [{ kind: 'Namespace', metadata: { name: 'docflow-workflows' } }, ...rendering()];
    expect(sut.namespaceProblems(created, namespaces)).toEqual([]);
  });

  it('finds workflow objects left in the release namespace and platform objects moved out of it', () => {
    const objects = rendering();
    delete find(objects, 'Secret', 'docflow-s3').metadata.namespace;
    find(objects, 'Role', 'docflow-jobs').metadata.namespace = 'docflow';
    find(objects, 'Secret', 'docflow-secrets').metadata.namespace = 'docflow-workflows';
    objects.push({ kind: 'Namespace', metadata: { name: 'elsewhere' } });
    expect(sut.namespaceProblems(objects, namespaces, 'x: ')).toEqual([
      'x: Secret/docflow-s3 is in docflow (none given), not docflow-workflows',
      'x: Role/docflow-jobs is in docflow, not docflow-workflows',
      'x: Secret/docflow-secrets is in docflow-workflows: only the workflow objects leave docflow',
      "x: Namespace/elsewhere: the chart creates no namespace but the workflows' (docflow-workflows)",
    ]);
  });

  it('finds a wrong binding subject, ARGO_NAMESPACE, a short step address and open NetworkPolicies', () => {
    const objects = rendering();
    find(objects, 'RoleBinding', 'docflow-jobs').subjects[0].namespace = 'docflow-workflows';
    find(objects, 'Deployment', 'docflow-jobs').spec.template.spec.containers[0].env[0].value = 'docflow';
    find(objects, 'ConfigMap', 'docflow-worker-config').data = {
      DOCFLOW_CALLBACK_URL: 'http://docflow-gateway-private:8081/api/private',
      S3_ENDPOINT: 'http://docflow-minio:9000',
    };
    find(objects, 'NetworkPolicy', 'docflow-gateway-private').spec.ingress[0].from.shift();
    find(objects, 'NetworkPolicy', 'docflow-nats-clients').spec.ingress[0].from[0].namespaceSelector = {};
    expect(sut.namespaceProblems(objects, namespaces)).toEqual([
      'RoleBinding/docflow-jobs binds [{"kind":"ServiceAccount","name":"docflow-jobs","namespace":"docflow-workflows"}], expected the ServiceAccount docflow-jobs of docflow alone',
      'Deployment/docflow-jobs: ARGO_NAMESPACE is docflow, not docflow-workflows',
      'docflow-worker-config: DOCFLOW_CALLBACK_URL http://docflow-gateway-private:8081/api/private is not <release>-gateway-private.docflow.svc',
      'docflow-worker-config: S3_ENDPOINT http://docflow-minio:9000 is a short name (it resolves in docflow-workflows)',
      'NetworkPolicy/docflow-gateway-private admits no worker pods of docflow-workflows',
      expect.stringContaining('NetworkPolicy/docflow-nats-clients admits {"podSelector"'),
    ]);
  });
});

describe('images and compose', () => {
  const bundled = ['cli', 'gateway', 'identity', 'jobs', 'key-vault', 'user-details', 'users-docs', 'worker'];
  /** Commands, not servers: their exit code is the answer, no HEALTHCHECK. */
  const commands = ['cli', 'worker'];
  const dockerfile = (app: string) => readFileSync(join(ROOT, 'apps', app, 'Dockerfile'), 'utf8');

  it('has a Dockerfile per bundled project, on one pinned Node LTS base, running its bundle as uid 10001 under tini', () => {
    const withBundle = readdirSync(join(ROOT, 'apps')).filter(
      (app) => JSON.parse(readFileSync(join(ROOT, 'apps', app, 'project.json'), 'utf8')).targets?.bundle,
    );
    expect(withBundle.sort()).toEqual(bundled);
    const bases = new Set<string>();
    for (const app of bundled) {
      const text = dockerfile(app);
      const base = /^ARG NODE_IMAGE=(node:(22|24)\.\d+\.\d+-[a-z]+-slim)$/m.exec(text);
      expect({ app, base: base?.[1] }).toEqual({ app, base: expect.any(String) });
      bases.add(base![1]);
      expect(text).toMatch(/^FROM \$\{NODE_IMAGE\} AS build$/m);
      expect(text).toMatch(/^FROM \$\{NODE_IMAGE\} AS runtime$/m);
      // `nx build <app> -c production` compiles and writes the bundle (the jobs image also bundles the worker).
      expect(text).toContain(
        app === 'jobs' ? 'nx run-many -t build -c production -p jobs' : `nx build ${app} -c production`,
      );
      expect(text).toContain(`COPY --from=build /src/dist/bundles/${app}/ /app/`);
      expect(text).toMatch(/^USER 10001:10001$/m);
      expect(text).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"/m);
      expect({ app, healthcheck: /^HEALTHCHECK /m.test(text) }).toEqual({
        app,
        healthcheck: !commands.includes(app),
      });
    }
    expect(bases.size).toBe(1);
  });

  it('runs every bundled service in compose, with its migrations, and gives the master key to key-vault and the signing keys to identity alone', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<
        string,
        { build?: { dockerfile: string }; command?: string[]; environment?: Record<string, string> }
      >;
    };
    for (const app of ['gateway', 'users-docs', 'jobs', 'key-vault', 'user-details', 'identity'])
      expect({ app, dockerfile: compose.services[app]?.build?.dockerfile }).toEqual({
        app,
        dockerfile: `apps/${app}/Dockerfile`,
      });
    for (const app of ['users-docs', 'jobs', 'key-vault', 'user-details', 'identity'])
      expect(compose.services[`${app}-migrate`]?.command).toEqual(['node', `apps/${app}/dist/migrate.js`]);
    const holders = Object.entries(compose.services)
      .filter(([, service]) =>
        Object.keys(service.environment ?? {}).some((name) => name.startsWith('MASTER_KEY')),
      )
      .map(([name]) => name);
    expect(holders).toEqual(['key-vault']);
    expect(compose.services['key-vault']!.environment!.MASTER_KEY).toMatch(/^\$\{MASTER_KEY:-/);
    const signers = Object.entries(compose.services)
      .filter(([, service]) =>
        Object.keys(service.environment ?? {}).some((name) =>
          /^(JWT_SIGNING_KEYS|JWT_DEV_KEY_FILE|BOOTSTRAP_ADMIN_PASSWORD)$/.test(name),
        ),
      )
      .map(([name]) => name);
    expect(signers).toEqual(['identity']);
    expect(compose.services.identity!.environment!.REDIS_URL).toBe('redis://redis:6379');
  });

  it('points MinIO at the gateway route that takes bucket notifications, with the bearer token', () => {
    const controller = readFileSync(
      join(ROOT, 'apps/gateway/src/webhooks/storage-webhook.controller.ts'),
      'utf8',
    );
    const route = /@Post\(\['([^']+)'/.exec(controller)![1];
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'));
    const minio = compose.services.minio.environment;
    expect(minio.MINIO_NOTIFY_WEBHOOK_ENDPOINT_DOCFLOW).toBe(`http://gateway:8081/api/private/${route}`);
    expect(minio.MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_DOCFLOW).toMatch(/^Bearer \$\{STORAGE_WEBHOOK_TOKEN/);
    expect(compose.services.gateway.environment.STORAGE_WEBHOOK_TOKEN).toMatch(/^\$\{STORAGE_WEBHOOK_TOKEN/);
    for (const file of [
      'charts/docflow/templates/bundled/minio.yaml',
      'k8s/overlays/dev/dependencies.yaml',
    ]) {
      expect({ file, routed: readFileSync(join(ROOT, file), 'utf8').includes(`/${route}`) }).toEqual({
        file,
        routed: true,
      });
    }
  });
});
