#!/usr/bin/env node
// Checks charts/docflow without helm (none runs here; CI runs `helm lint` and `helm template | kubeconform`):
//
//   node tools/deploy-check/chart.js [chart-dir]
//
// - every `.Values.x.y` a template reads exists in values.yaml; every `$svc.x` of a `range … := .Values.services`
//   (and every `$v.x` of `$v := .Values.…`) exists in values.schema.json or values.yaml;
// - values.yaml, and values.yaml merged with each examples/*.yaml as Helm merges them, validate against
//   values.schema.json (ajv, draft-07);
// - every `include` / `template` names a helper some template `define`s;
// - the Roles are exactly the issue's (jobs: workflows create/get/list/watch/patch; Secrets create only, for the
//   per-job callback Secret the argo driver writes) and match the Kubernetes calls in libs/workflow-engine's
//   argo driver; no ClusterRole; both Roles and their RoleBindings are in the workflows' namespace, the jobs
//   RoleBinding's subject in the release's (one expectation for both layouts: workflows.namespace empty or set);
// - workflows.namespace: the workflow objects (WORKFLOW_NAMESPACE_OBJECTS, and the WorkflowTemplate through
//   docflow.workflowTemplate) carry `namespace: {{ include "docflow.workflowNamespace" . }}` under
//   `{{- if .Values.workflows.namespace }}`, nothing else does; the jobs service's ARGO_NAMESPACE is that
//   namespace; the steps' addresses come from the namespace-qualifying docflow.workflow* helpers; the gateway's
//   private port admits worker pods of that namespace, and the data stores admit pods of their own namespace only;
// - every service's environment names are fields of its config schema (apps/<service>/src/config.ts), and the
//   steps' ConfigMap names fields of the worker's;
// - the jobs service's SEMAPHORE_KEYS is rendered from the keys of workflows.semaphores, which has `default`;
// - every container's memory limit is at most 4 GiB, and every service has an HPA and a PodDisruptionBudget;
// - the master key reaches key-vault only: in values.yaml and every example, no services entry but key-vault's
//   names the Secret keys master-key / master-key-previous (secretEnv, extraEnv) or a MASTER_KEY* variable, and
//   key-vault's names master-key; no template but config.yaml (which defines the Secret) names those keys, takes
//   the shared Secret whole (envFrom secretRef, a secret volume), or uses key-vault's entry outside its
//   Deployment and its rotation Job;
// - likewise identity's JWT signing keys: no services entry but identity's names the Secret keys
//   jwt-signing-keys / bootstrap-admin-password or sets JWT_SIGNING_KEYS, JWT_DEV_KEY_FILE or
//   BOOTSTRAP_ADMIN_PASSWORD, identity's takes JWT_SIGNING_KEYS from jwt-signing-keys, and no template but
//   config.yaml names those keys or uses identity's entry outside its Deployment;
// - files/docflow-transform.yaml is argo-templates/docflow-transform.yaml (a link to it, the single source).
//
// Not checked here: the rendered manifests themselves (that needs Go templates and Sprig: CI's helm template).
// Exit codes: 0 fine, 1 problems found.
'use strict';
const { existsSync, lstatSync, readFileSync, readdirSync, realpathSync } = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');
const { configFields } = require('./config-fields');

const ROOT = path.resolve(__dirname, '..', '..');
const DEFAULT_CHART = path.join(ROOT, 'charts', 'docflow');
const MAX_MEMORY_BYTES = 4 * 1024 ** 3;

/** What the issue allows, and what the code needs (see ARGO_DRIVER_CALLS). */
const EXPECTED_ROLES = {
  jobs: [
    {
      apiGroups: ['argoproj.io'],
      resources: ['workflows'],
      verbs: ['create', 'get', 'list', 'watch', 'patch'],
    },
    // Only create: the per-job callback Secret, created already owned by its Workflow. A `patch` would answer
    // with the whole object (any Secret of the namespace); `delete` is not needed either.
    { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
  ],
  'docflow-workflow': [
    { apiGroups: ['argoproj.io'], resources: ['workflowtaskresults'], verbs: ['create', 'patch'] },
  ],
};

/**
 * Placeholders for the two namespaces, as staticDocuments writes them: `{{ include "docflow.workflowNamespace" . }}`
 * (workflows.namespace, else the release's) and `{{ .Release.Namespace }}`.
 */
const WORKFLOWS_NAMESPACE = 'WORKFLOWS_NAMESPACE';
const RELEASE_NAMESPACE = 'RELEASE_NAMESPACE';
const WORKFLOW_NAMESPACE_HELPER = 'docflow.workflowNamespace';

/**
 * Where each Role goes and whom its RoleBinding (same name) binds. One expectation for both layouts: with
 * workflows.namespace empty both placeholders are the release's namespace. The jobs service's ServiceAccount
 * stays in the release's namespace (its pods run there) and is bound in the workflows' one.
 */
const EXPECTED_BINDINGS = {
  jobs: {
    namespace: WORKFLOWS_NAMESPACE,
    subjects: [{ kind: 'ServiceAccount', name: 'TEMPLATED-jobs', namespace: RELEASE_NAMESPACE }],
  },
  'docflow-workflow': {
    namespace: WORKFLOWS_NAMESPACE,
    subjects: [{ kind: 'ServiceAccount', name: 'docflow-workflow', namespace: WORKFLOWS_NAMESPACE }],
  },
};

/**
 * What goes to the workflows' namespace (kind/name as staticDocuments reads them; TEMPLATED-jobs is
 * <fullname>-jobs), besides the WorkflowTemplate (docflow.workflowTemplate). Nothing else may.
 */
const WORKFLOW_NAMESPACE_OBJECTS = [
  'ConfigMap/docflow-semaphores',
  'ConfigMap/docflow-worker-config',
  'Secret/docflow-s3',
  'Secret/docflow-provider',
  'ServiceAccount/docflow-workflow',
  'Role/docflow-workflow',
  'RoleBinding/docflow-workflow',
  'Role/TEMPLATED-jobs',
  'RoleBinding/TEMPLATED-jobs',
];
/** services.jobs.env.ARGO_NAMESPACE: the namespace the chart puts the workflow objects in. */
const ARGO_NAMESPACE_VALUE = `{{ include "${WORKFLOW_NAMESPACE_HELPER}" . }}`;
/** The helpers docflow-worker-config may take addresses from: they qualify names with the release's namespace. */
const WORKER_CONFIG_HELPERS = [
  'docflow.labels',
  WORKFLOW_NAMESPACE_HELPER,
  'docflow.workflowS3Endpoint',
  'docflow.workflowPrivateApiUrl',
];
/** The labels argo-templates/docflow-transform.yaml gives every workflow pod. */
const WORKER_POD_LABELS = { 'app.kubernetes.io/part-of': 'docflow', 'app.kubernetes.io/component': 'worker' };

/** @kubernetes/client-node calls → the resource and verb they need. */
const CLIENT_CALLS = {
  createNamespacedCustomObject: ['workflows', 'create'],
  getNamespacedCustomObject: ['workflows', 'get'],
  listNamespacedCustomObject: ['workflows', 'list'],
  patchNamespacedCustomObject: ['workflows', 'patch'],
  deleteNamespacedCustomObject: ['workflows', 'delete'],
  replaceNamespacedCustomObject: ['workflows', 'update'],
  'watch.watch': ['workflows', 'watch'],
  createNamespacedSecret: ['secrets', 'create'],
  readNamespacedSecret: ['secrets', 'get'],
  listNamespacedSecret: ['secrets', 'list'],
  patchNamespacedSecret: ['secrets', 'patch'],
  replaceNamespacedSecret: ['secrets', 'update'],
  deleteNamespacedSecret: ['secrets', 'delete'],
};
const ARGO_DRIVER = 'libs/workflow-engine/src/argo/argo-workflow-engine.ts';

/** The only service that may receive the master key (docs/key-vault.md), and the Secret keys that hold it. */
const MASTER_KEY_HOLDER = 'key-vault';
const MASTER_KEY_SECRET_KEYS = ['master-key', 'master-key-previous'];
/** Templates allowed to touch the master key: the Secret's definition, and key-vault's own rotation Job. */
const MASTER_KEY_SECRET_TEMPLATE = 'config.yaml';
const MASTER_KEY_HOLDER_TEMPLATES = ['deployments.yaml', 'key-vault-rotation.yaml'];
/** The only service that may receive identity's JWT signing keys and the bootstrap admin's password. */
const SIGNING_KEYS_HOLDER = 'identity';
const SIGNING_KEYS_SECRET_KEYS = ['jwt-signing-keys', 'bootstrap-admin-password'];

function readYamlFile(file) {
  return YAML.parse(readFileSync(file, 'utf8')) ?? {};
}

function templateFiles(chart) {
  const out = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(ya?ml|tpl|txt)$/.test(entry.name)) out.push(full);
    }
  };
  walk(path.join(chart, 'templates'));
  return out.sort();
}

function hasPath(object, segments) {
  let node = object;
  for (const segment of segments) {
    if (node === null || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, segment))
      return false;
    node = node[segment];
  }
  return true;
}

/** Does the schema describe `segments` below `schema` (properties, additionalProperties, $ref, allOf)? */
function schemaHasPath(root, schema, segments) {
  const resolve = (s) => {
    while (s && s.$ref)
      s = s.$ref
        .split('/')
        .slice(1)
        .reduce((node, key) => node[key], root);
    return s;
  };
  let node = resolve(schema);
  for (const segment of segments) {
    if (!node || typeof node !== 'object') return false;
    if (node.properties && segment in node.properties) node = resolve(node.properties[segment]);
    else if (node.additionalProperties && typeof node.additionalProperties === 'object')
      node = resolve(node.additionalProperties);
    else if (node.type === 'object' && node.additionalProperties === undefined && !node.properties)
      return true;
    else return false;
  }
  return true;
}

/** Helm's merge of a values file over values.yaml: maps merge, everything else replaces, null deletes. */
function mergeValues(base, override) {
  if (override === null || typeof override !== 'object' || Array.isArray(override)) return override;
  const out = base && typeof base === 'object' && !Array.isArray(base) ? { ...base } : {};
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete out[key];
    else out[key] = mergeValues(out[key], value);
  }
  return out;
}

function checkValuesPaths({ templates, values, schema }) {
  const problems = [];
  // `env` values are templates too (tpl in docflow.env): '{{ .Values.keyVault.masterKeyId }}'.
  for (const [name, svc] of Object.entries(values.services ?? {})) {
    for (const [key, value] of Object.entries(svc?.env ?? {})) {
      for (const match of String(value).matchAll(/\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        const segments = match[1].slice(1).split('.');
        if (!hasPath(values, segments))
          problems.push(
            `values.yaml: services.${name}.env.${key} reads .Values.${segments.join('.')}, which is not in values.yaml`,
          );
      }
    }
  }
  for (const [file, text] of templates) {
    const where = path.basename(file);
    for (const match of text.matchAll(/\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
      const segments = match[1].slice(1).split('.');
      if (!hasPath(values, segments))
        problems.push(`${where}: .Values.${segments.join('.')} is not in values.yaml`);
    }
    // `$svc` of `range $name, $svc := .Values.services`: a path of every map entry, so the schema says.
    const ranged = new Map();
    for (const match of text.matchAll(/range\s+\$\w+\s*,\s*\$(\w+)\s*:=\s*\$?\.Values((?:\.\w+)+)/g)) {
      ranged.set(match[1], match[2].slice(1).split('.'));
    }
    const assigned = new Map();
    for (const match of text.matchAll(/\$(\w+)\s*:=\s*\$?\.Values((?:\.\w+)+)\s*\}\}/g)) {
      assigned.set(match[1], match[2].slice(1).split('.'));
    }
    // `$svc := index .Values.services "key-vault"`: a named entry.
    for (const match of text.matchAll(/\$(\w+)\s*:=\s*index\s+\$?\.Values((?:\.\w+)+)\s+"([^"]+)"\s*\}\}/g)) {
      assigned.set(match[1], [...match[2].slice(1).split('.'), match[3]]);
    }
    for (const match of text.matchAll(/\$(\w+)((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
      const [, variable, rest] = match;
      const segments = rest.slice(1).split('.');
      if (ranged.has(variable)) {
        const base = ranged.get(variable);
        if (!schemaHasPath(schema, schema, [...base, '*', ...segments]))
          problems.push(
            `${where}: $${variable}.${segments.join('.')} (an entry of .Values.${base.join('.')}) is not in values.schema.json`,
          );
      } else if (assigned.has(variable)) {
        const base = assigned.get(variable);
        if (!hasPath(values, [...base, ...segments]))
          problems.push(
            `${where}: $${variable}.${segments.join('.')} (.Values.${base.join('.')}) is not in values.yaml`,
          );
      }
    }
  }
  return problems;
}

function checkIncludes({ templates }) {
  const defined = new Set();
  for (const [, text] of templates)
    for (const m of text.matchAll(/\{\{-?\s*define\s+"([^"]+)"/g)) defined.add(m[1]);
  const problems = [];
  for (const [file, text] of templates) {
    for (const m of text.matchAll(/\b(include|template)\s+"([^"]+)"/g)) {
      if (!defined.has(m[2]))
        problems.push(`${path.basename(file)}: ${m[1]} "${m[2]}" names no defined helper`);
    }
    // `include (print $.Template.BasePath "/config.yaml")` names a template file.
    for (const m of text.matchAll(/include\s+\(print\s+\$\.Template\.BasePath\s+"\/([^"]+)"\)/g)) {
      if (
        !templates.has(path.join(path.dirname(file), m[1])) &&
        ![...templates.keys()].some((f) => f.endsWith(`/templates/${m[1]}`))
      )
        problems.push(`${path.basename(file)}: includes templates/${m[1]}, which does not exist`);
    }
  }
  return problems;
}

function ajvFor(schema) {
  const Ajv = require('ajv');
  const ajv = new Ajv({ allErrors: true, strict: false });
  return ajv.compile(schema);
}

function describeErrors(errors) {
  return (errors ?? []).map(
    (e) =>
      `${e.instancePath || '/'} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`,
  );
}

/** Validates values.yaml and each example merged over it; returns the merged values by file. */
function checkSchema({ chart, values, schema }) {
  const validate = ajvFor(schema);
  const problems = [];
  const merged = new Map([['values.yaml', values]]);
  const examples = path.join(chart, 'examples');
  if (existsSync(examples)) {
    for (const entry of readdirSync(examples)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()) {
      merged.set(`examples/${entry}`, mergeValues(values, readYamlFile(path.join(examples, entry))));
    }
  }
  for (const [name, candidate] of merged) {
    if (!validate(candidate))
      problems.push(
        ...describeErrors(validate.errors).map((e) => `${name} against values.schema.json: ${e}`),
      );
  }
  return { problems, merged };
}

/**
 * The template with its actions replaced, enough to read the static objects (the Roles, the namespaces): lines
 * that are only an action go (so both branches of an if stay), the two namespaces become WORKFLOWS_NAMESPACE and
 * RELEASE_NAMESPACE, other inline actions a placeholder.
 */
function staticDocuments(text) {
  const stripped = text
    .replace(/\{\{-?\s*\/\*[\s\S]*?\*\/\s*-?\}\}/g, '')
    .split('\n')
    .filter((line) => !/^\s*\{\{-?[^}]*-?\}\}\s*$/.test(line))
    .map((line) =>
      line
        .replace(/\{\{-?\s*include\s+"docflow\.workflowNamespace"\s+\$?\.?\s*-?\}\}/g, WORKFLOWS_NAMESPACE)
        .replace(/\{\{-?\s*\$?\.Release\.Namespace\s*-?\}\}/g, RELEASE_NAMESPACE)
        .replace(/\{\{-?[^}]*-?\}\}/g, 'TEMPLATED'),
    )
    .join('\n');
  return YAML.parseAllDocuments(stripped)
    .map((doc) => doc.toJS())
    .filter(Boolean);
}

function normaliseRules(rules) {
  return JSON.stringify(
    (rules ?? [])
      .map((r) => ({
        apiGroups: [...r.apiGroups].sort(),
        resources: [...r.resources].sort(),
        verbs: [...r.verbs].sort(),
        ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}),
      }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  );
}

function checkRbac({ templates }, root = ROOT) {
  const problems = [];
  const roles = new Map();
  const roleNamespaces = new Map();
  const bindings = new Map();
  const roleName = (name) =>
    name === 'docflow-workflow' ? 'docflow-workflow' : String(name).replace(/^TEMPLATED-/, '');
  for (const [file, text] of templates) {
    if (/kind:\s*ClusterRole/.test(text))
      problems.push(`${path.basename(file)}: a ClusterRole (everything is namespaced)`);
    if (!/kind:\s*Role(Binding)?\b/.test(text)) continue;
    for (const doc of staticDocuments(text)) {
      if (doc.kind === 'Role') {
        roles.set(roleName(doc.metadata?.name), doc.rules);
        roleNamespaces.set(roleName(doc.metadata?.name), doc.metadata?.namespace);
      } else if (doc.kind === 'RoleBinding') {
        bindings.set(roleName(doc.metadata?.name), doc);
      }
    }
  }
  for (const [name, expected] of Object.entries(EXPECTED_ROLES)) {
    if (!roles.has(name)) problems.push(`no Role ${name}`);
    else if (normaliseRules(roles.get(name)) !== normaliseRules(expected))
      problems.push(
        `Role ${name} has ${JSON.stringify(roles.get(name))}, expected exactly ${JSON.stringify(expected)}`,
      );
  }
  for (const name of roles.keys()) if (!(name in EXPECTED_ROLES)) problems.push(`an unexpected Role ${name}`);
  // Where the Roles and their bindings are, and whom they bind (both layouts: see EXPECTED_BINDINGS).
  const where = (namespace) =>
    namespace === WORKFLOWS_NAMESPACE
      ? "the workflows' namespace"
      : namespace === RELEASE_NAMESPACE
        ? "the release's namespace"
        : String(namespace ?? "the release's namespace (none given)");
  for (const [name, expected] of Object.entries(EXPECTED_BINDINGS)) {
    if (roles.has(name) && roleNamespaces.get(name) !== expected.namespace)
      problems.push(
        `Role ${name} is in ${where(roleNamespaces.get(name))}, expected ${where(expected.namespace)}`,
      );
    const binding = bindings.get(name);
    if (!binding) {
      problems.push(`no RoleBinding ${name}`);
      continue;
    }
    if (binding.metadata?.namespace !== expected.namespace)
      problems.push(
        `RoleBinding ${name} is in ${where(binding.metadata?.namespace)}, expected ${where(expected.namespace)} (its Role's)`,
      );
    if (binding.roleRef?.kind !== 'Role' || roleName(binding.roleRef?.name) !== name)
      problems.push(
        `RoleBinding ${name} refers to ${JSON.stringify(binding.roleRef)}, expected Role ${name}`,
      );
    const subjects = (binding.subjects ?? []).map(({ kind, name: subject, namespace }) => ({
      kind,
      name: subject,
      namespace,
    }));
    if (JSON.stringify(subjects) !== JSON.stringify(expected.subjects))
      problems.push(
        `RoleBinding ${name} binds ${JSON.stringify(subjects).replaceAll('TEMPLATED', '<fullname>')}, expected exactly ${JSON.stringify(expected.subjects).replaceAll('TEMPLATED', '<fullname>')}`,
      );
  }
  for (const name of bindings.keys())
    if (!(name in EXPECTED_BINDINGS)) problems.push(`an unexpected RoleBinding ${name}`);

  // The jobs Role against the driver's calls: neither more nor less than the code uses.
  const driver = path.join(root, ARGO_DRIVER);
  if (existsSync(driver)) {
    const source = readFileSync(driver, 'utf8');
    const used = new Map();
    for (const [call, [resource, verb]] of Object.entries(CLIENT_CALLS)) {
      const pattern = call === 'watch.watch' ? /\bwatch\.watch\(/ : new RegExp(`\\.${call}\\(`);
      if (pattern.test(source)) used.set(resource, [...(used.get(resource) ?? []), verb]);
    }
    const granted = new Map((roles.get('jobs') ?? []).map((r) => [r.resources[0], r.verbs]));
    for (const resource of new Set([...used.keys(), ...granted.keys()])) {
      const need = [...(used.get(resource) ?? [])].sort().join(',');
      const have = [...(granted.get(resource) ?? [])].sort().join(',');
      if (need !== have)
        problems.push(`Role jobs grants ${resource} [${have}] but ${ARGO_DRIVER} uses [${need}]`);
    }
  } else {
    problems.push(`${ARGO_DRIVER} is missing: cannot match the jobs Role to the code`);
  }
  return problems;
}

function checkEnvironment({ values, templates }, root = ROOT) {
  const problems = [];
  for (const [name, svc] of Object.entries(values.services ?? {})) {
    const fields = configFields(name, root);
    if (!fields) {
      problems.push(`services.${name}: apps/${name}/src/config.ts not found`);
      continue;
    }
    for (const key of [
      ...Object.keys(svc.env ?? {}),
      ...Object.keys(svc.secretEnv ?? {}),
      ...(svc.extraEnv ?? []).map((e) => e.name),
    ]) {
      if (!fields.has(key))
        problems.push(`services.${name}: ${key} is not a field of apps/${name}/src/config.ts`);
    }
  }
  const worker = configFields('worker', root);
  const workflows = [...templates].find(([file]) => file.endsWith('workflows.yaml'));
  if (worker && workflows) {
    const block = workflows[1].split('name: docflow-worker-config')[1]?.split('\n---')[0] ?? '';
    for (const m of block.matchAll(/^\s{2}([A-Z][A-Z0-9_]+):/gm)) {
      if (!worker.has(m[1]))
        problems.push(`docflow-worker-config: ${m[1]} is not a field of apps/worker/src/config.ts`);
    }
    for (const key of Object.keys(values.workflows?.workerConfig ?? {})) {
      if (!worker.has(key))
        problems.push(`workflows.workerConfig: ${key} is not a field of apps/worker/src/config.ts`);
    }
  }
  return problems;
}

const UNITS = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
function bytesOf(quantity) {
  const m = /^([0-9.]+)([A-Za-z]*)$/.exec(String(quantity));
  if (!m) return NaN;
  return Number(m[1]) * (m[2] ? (UNITS[m[2]] ?? NaN) : 1);
}

function checkResources(merged) {
  const problems = [];
  for (const [file, values] of merged) {
    const containers = [
      ...Object.entries(values.services ?? {}).map(([name, s]) => [`services.${name}`, s.resources]),
      ['nats.bundled', values.nats?.bundled?.resources],
      ['redis.bundled', values.redis?.bundled?.resources],
      ['postgresql.bundled', values.postgresql?.bundled?.resources],
      ['objectStorage.bundled', values.objectStorage?.bundled?.resources],
      ['migrations', values.migrations?.resources],
      ['keyVault.rotationJob', values.keyVault?.rotationJob?.resources],
    ];
    for (const [where, resources] of containers) {
      const limit = bytesOf(resources?.limits?.memory);
      if (!(limit <= MAX_MEMORY_BYTES))
        problems.push(`${file}: ${where} memory limit ${resources?.limits?.memory} is not at most 4Gi`);
    }
    if (file === 'values.yaml') {
      for (const [name, s] of Object.entries(values.services ?? {})) {
        if (!s.autoscaling?.enabled) problems.push(`values.yaml: services.${name} has no HPA`);
        if (!s.podDisruptionBudget?.enabled)
          problems.push(`values.yaml: services.${name} has no PodDisruptionBudget`);
      }
    }
  }
  return problems;
}

/** How services.jobs.env.SEMAPHORE_KEYS lists the keys of the ConfigMap docflow-semaphores. */
const SEMAPHORE_KEYS_VALUE = '{{ keys .Values.workflows.semaphores | sortAlpha | join "," }}';

/**
 * The jobs service uses only the semaphore keys it is told (Argo fails a step whose key the ConfigMap lacks):
 * in values.yaml and every example, SEMAPHORE_KEYS is rendered from workflows.semaphores, never set by hand.
 */
function checkSemaphoreKeys(merged) {
  const problems = [];
  for (const [file, values] of merged) {
    const jobs = values.services?.jobs;
    if (!jobs?.enabled) continue;
    if (jobs.env?.SEMAPHORE_KEYS !== SEMAPHORE_KEYS_VALUE)
      problems.push(
        `${file}: services.jobs.env.SEMAPHORE_KEYS must be '${SEMAPHORE_KEYS_VALUE}' (the keys of workflows.semaphores)`,
      );
    if (!Object.hasOwn(values.workflows?.semaphores ?? {}, 'default'))
      problems.push(`${file}: workflows.semaphores has no key default`);
  }
  return problems;
}

/** The Secret key a secretEnv entry names: `key` or `{ key, optional }`. */
const secretKeyOf = (ref) => (typeof ref === 'string' ? ref : ref?.key);

/** The master key reaches key-vault only (see the header). */
function checkMasterKey({ templates }, merged) {
  const problems = [];
  const isMasterKey = (key) => MASTER_KEY_SECRET_KEYS.includes(key);
  for (const [file, values] of merged) {
    const services = values.services ?? {};
    for (const [name, svc] of Object.entries(services)) {
      const named = [
        ...Object.entries(svc?.secretEnv ?? {}).map(([env, ref]) => [env, secretKeyOf(ref)]),
        ...(svc?.extraEnv ?? []).map((e) => [e.name, e.valueFrom?.secretKeyRef?.key]),
      ];
      if (name === MASTER_KEY_HOLDER) {
        if (svc.enabled && !named.some(([env, key]) => env === 'MASTER_KEY' && key === 'master-key'))
          problems.push(`${file}: services.${name} does not take MASTER_KEY from the Secret key master-key`);
        continue;
      }
      for (const [env, key] of named) {
        if (isMasterKey(key))
          problems.push(
            `${file}: services.${name} names the Secret key ${key} (${env}): only ${MASTER_KEY_HOLDER} may`,
          );
        else if (/^MASTER_KEY/.test(env))
          problems.push(`${file}: services.${name} sets ${env}: only ${MASTER_KEY_HOLDER} may`);
      }
      for (const env of Object.keys(svc?.env ?? {}))
        if (/^MASTER_KEY/.test(env))
          problems.push(`${file}: services.${name} sets ${env}: only ${MASTER_KEY_HOLDER} may`);
    }
  }
  for (const [file, text] of templates) {
    const where = path.relative(path.join(path.dirname(file), '..'), file).replace(/^templates\//, '');
    const name = path.basename(file);
    if (name !== MASTER_KEY_SECRET_TEMPLATE) {
      for (const m of text.matchAll(/\bkey:\s*['"]?(master-key(?:-previous)?)['"]?\s*[,}\n]/g))
        problems.push(
          `${where}: names the Secret key ${m[1]}: only ${MASTER_KEY_HOLDER}'s services entry may`,
        );
    }
    if (/\bsecretRef:/.test(text))
      problems.push(`${where}: envFrom secretRef hands a whole Secret (with the master key) to a pod`);
    if (/\bsecret:\s*\n?\s*secretName:/.test(text))
      problems.push(`${where}: a secret volume hands a whole Secret (with the master key) to a pod`);
    if (
      /(?:index\s+\$?\.Values\.services\s+"key-vault"|\.Values\.services\.key-vault)/.test(text) &&
      ![...MASTER_KEY_HOLDER_TEMPLATES, 'NOTES.txt'].includes(name)
    )
      problems.push(
        `${where}: uses the ${MASTER_KEY_HOLDER} services entry (its environment holds the master key)`,
      );
  }
  return problems;
}

/** identity's signing keys (and the bootstrap admin's password) reach identity only (see the header). */
function checkSigningKeys({ templates }, merged) {
  const problems = [];
  const isConfined = (key) => SIGNING_KEYS_SECRET_KEYS.includes(key);
  const confinedEnv = /^(JWT_SIGNING_KEYS|JWT_DEV_KEY_FILE|BOOTSTRAP_ADMIN_PASSWORD)$/;
  for (const [file, values] of merged) {
    for (const [name, svc] of Object.entries(values.services ?? {})) {
      const named = [
        ...Object.entries(svc?.secretEnv ?? {}).map(([env, ref]) => [env, secretKeyOf(ref)]),
        ...(svc?.extraEnv ?? []).map((e) => [e.name, e.valueFrom?.secretKeyRef?.key]),
      ];
      if (name === SIGNING_KEYS_HOLDER) {
        if (
          svc.enabled &&
          !named.some(([env, key]) => env === 'JWT_SIGNING_KEYS' && key === 'jwt-signing-keys')
        )
          problems.push(
            `${file}: services.${name} does not take JWT_SIGNING_KEYS from the Secret key jwt-signing-keys`,
          );
        continue;
      }
      for (const [env, key] of named) {
        if (isConfined(key))
          problems.push(
            `${file}: services.${name} names the Secret key ${key} (${env}): only ${SIGNING_KEYS_HOLDER} may`,
          );
        else if (confinedEnv.test(env))
          problems.push(`${file}: services.${name} sets ${env}: only ${SIGNING_KEYS_HOLDER} may`);
      }
      for (const env of Object.keys(svc?.env ?? {}))
        if (confinedEnv.test(env))
          problems.push(`${file}: services.${name} sets ${env}: only ${SIGNING_KEYS_HOLDER} may`);
    }
  }
  for (const [file, text] of templates) {
    const where = path.relative(path.join(path.dirname(file), '..'), file).replace(/^templates\//, '');
    const name = path.basename(file);
    if (name !== MASTER_KEY_SECRET_TEMPLATE) {
      for (const m of text.matchAll(
        /\bkey:\s*['"]?(jwt-signing-keys|bootstrap-admin-password)['"]?\s*[,}\n]/g,
      ))
        problems.push(
          `${where}: names the Secret key ${m[1]}: only ${SIGNING_KEYS_HOLDER}'s services entry may`,
        );
    }
    if (
      /(?:index\s+\$?\.Values\.services\s+"identity"|\.Values\.services\.identity\b)/.test(text) &&
      !['deployments.yaml', 'NOTES.txt'].includes(name)
    )
      problems.push(
        `${where}: uses the ${SIGNING_KEYS_HOLDER} services entry (its environment holds the signing keys)`,
      );
  }
  return problems;
}

function checkWorkflowTemplate(chart, root = ROOT) {
  const link = path.join(chart, 'files', 'docflow-transform.yaml');
  const source = path.join(root, 'argo-templates', 'docflow-transform.yaml');
  if (!existsSync(link)) return [`${path.relative(root, link)} is missing`];
  const problems = [];
  if (!lstatSync(link).isSymbolicLink())
    problems.push(
      `${path.relative(root, link)} must be a link to argo-templates/docflow-transform.yaml, not a copy`,
    );
  else if (realpathSync(link) !== realpathSync(source))
    problems.push(`${path.relative(root, link)} links to ${realpathSync(link)}, not ${source}`);
  return problems;
}

/** Go's double-quoted string literal, as far as the chart's helpers use it. */
const goString = (literal) => JSON.parse(`"${literal}"`);

/** The label of an object in a problem: <fullname> for the release-prefixed part of its name. */
const label = (key) => key.replace(/TEMPLATED/g, '<fullname>');

/**
 * workflows.namespace (see the header): with it set, the workflow objects render into that namespace and nothing
 * else does. Read statically, as staticDocuments reads the templates (both branches of every if).
 */
function checkWorkflowNamespace({ templates, workflowTemplate }, merged = new Map()) {
  const problems = [];
  const yamlTemplates = [...templates].filter(([file]) => /\.ya?ml$/.test(file));
  const objects = [];
  for (const [file, text] of yamlTemplates) {
    for (const doc of staticDocuments(text)) {
      if (!doc || typeof doc !== 'object' || !doc.kind) continue;
      objects.push({ key: `${doc.kind}/${doc.metadata?.name}`, file: path.basename(file), doc });
    }
  }

  // The objects of the workflows' namespace, and only they.
  for (const key of WORKFLOW_NAMESPACE_OBJECTS) {
    const found = objects.filter((o) => o.key === key);
    if (!found.length) problems.push(`${label(key)}: no template renders it`);
    for (const { file, doc } of found)
      if (doc.metadata?.namespace !== WORKFLOWS_NAMESPACE)
        problems.push(
          `${file}: ${label(key)} must be in the workflows' namespace (metadata.namespace ${ARGO_NAMESPACE_VALUE} under {{- if .Values.workflows.namespace }}), it has ${doc.metadata?.namespace ?? 'none'}`,
        );
  }
  for (const { key, file, doc } of objects) {
    if (WORKFLOW_NAMESPACE_OBJECTS.includes(key)) continue;
    const namespace = doc.metadata?.namespace;
    if (doc.kind === 'Namespace') {
      if (doc.metadata?.name !== WORKFLOWS_NAMESPACE)
        problems.push(`${file}: ${label(key)}: the chart creates no namespace but workflows.namespace`);
    } else if (namespace === WORKFLOWS_NAMESPACE)
      problems.push(
        `${file}: ${label(key)} renders into the workflows' namespace: only ${WORKFLOW_NAMESPACE_OBJECTS.map(label).join(', ')} and the WorkflowTemplate go there`,
      );
    else if (namespace !== undefined && namespace !== RELEASE_NAMESPACE)
      problems.push(`${file}: ${label(key)} has metadata.namespace ${namespace}: the release's, or none`);
  }

  // The namespace line of an object's metadata is there only when workflows.namespace is set (the default
  // rendering stays as it was), and under no other condition.
  const guard = /^\s*\{\{-?\s*if\s+\$?\.Values\.workflows\.namespace\s*-?\}\}\s*$/;
  const end = /^\s*\{\{-?\s*end\s*-?\}\}\s*$/;
  for (const [file, text] of yamlTemplates) {
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (!/^ {2}namespace:\s*\{\{\s*include\s+"docflow\.workflowNamespace"/.test(line)) return;
      if (!guard.test(lines[i - 1] ?? '') || !end.test(lines[i + 1] ?? ''))
        problems.push(
          `${path.basename(file)}:${i + 1}: the metadata.namespace line must stand alone under {{- if .Values.workflows.namespace }} … {{- end }}`,
        );
    });
  }

  // The WorkflowTemplate (files/docflow-transform.yaml, not a template): docflow.workflowTemplate adds its
  // namespace after its metadata.name. Done here as the helper does it, on the file as it is.
  const helpers = [...templates].find(([file]) => file.endsWith('_helpers.tpl'))?.[1] ?? '';
  const helperBody = (name) =>
    helpers.split(/(?=\{\{-?\s*define\s)/).find((d) => d.includes(`define "${name}"`)) ?? '';
  const helper = helperBody('docflow.workflowTemplate');
  for (const [file, text] of templates) {
    if (/\.Files\.Get\s+"files\/docflow-transform\.yaml"/.test(text) && !file.endsWith('_helpers.tpl'))
      problems.push(
        `${path.basename(file)}: reads files/docflow-transform.yaml itself: include "docflow.workflowTemplate" (it adds workflows.namespace)`,
      );
  }
  if (!yamlTemplates.some(([, text]) => /include\s+"docflow\.workflowTemplate"/.test(text)))
    problems.push('no template includes "docflow.workflowTemplate" (the WorkflowTemplate)');
  const anchor = /\$anchor\s*:=\s*"((?:[^"\\]|\\.)*)"/.exec(helper);
  const replacement =
    /replace\s+\$anchor\s+\(printf\s+"((?:[^"\\]|\\.)*)"\s+\$anchor\s+\(include\s+"docflow\.workflowNamespace"\s+\.\)\)\s+\$text/.exec(
      helper,
    );
  if (
    !anchor ||
    !replacement ||
    !/\.Files\.Get\s+"files\/docflow-transform\.yaml"/.test(helper) ||
    !/\{\{-?\s*if\s+\.Values\.workflows\.namespace\s*-?\}\}/.test(helper)
  ) {
    problems.push(
      '_helpers.tpl: docflow.workflowTemplate does not add metadata.namespace as chart.js reads it ($anchor, replace $anchor (printf "…" $anchor (include "docflow.workflowNamespace" .)) $text, under if .Values.workflows.namespace)',
    );
  } else if (workflowTemplate !== undefined) {
    const from = goString(anchor[1]);
    const count = workflowTemplate.split(from).length - 1;
    if (count !== 1)
      problems.push(
        `files/docflow-transform.yaml: ${JSON.stringify(from)} (where docflow.workflowTemplate adds the namespace) occurs ${count} times, not once`,
      );
    else {
      let n = 0;
      const to = goString(replacement[1]).replace(/%s/g, () => (n++ === 0 ? from : WORKFLOWS_NAMESPACE));
      const docs = YAML.parseAllDocuments(workflowTemplate.replace(from, to)).map((d) => d.toJS());
      const template = docs.find((d) => d?.kind === 'WorkflowTemplate');
      if (
        !template ||
        template.metadata?.namespace !== WORKFLOWS_NAMESPACE ||
        docs.filter(Boolean).length !== 1
      )
        problems.push(
          `files/docflow-transform.yaml: with docflow.workflowTemplate's change it is not one WorkflowTemplate in the workflows' namespace (metadata.namespace: ${template?.metadata?.namespace})`,
        );
    }
    if (/^\s{2}namespace:/m.test(workflowTemplate.split(/^spec:/m)[0] ?? ''))
      problems.push('files/docflow-transform.yaml: has a namespace of its own (the chart gives it one)');
  }

  // The jobs service submits there.
  for (const [file, values] of merged) {
    const jobs = values.services?.jobs;
    if (jobs?.enabled && jobs.env?.ARGO_NAMESPACE !== ARGO_NAMESPACE_VALUE)
      problems.push(
        `${file}: services.jobs.env.ARGO_NAMESPACE must be '${ARGO_NAMESPACE_VALUE}' (where the chart puts the WorkflowTemplate, its ConfigMaps and Secrets, and the jobs Role), not ${JSON.stringify(jobs.env?.ARGO_NAMESPACE)}`,
      );
  }

  // The steps' addresses: only from the helpers that qualify names with the release's namespace.
  const workflowsYaml = yamlTemplates.find(([file]) => file.endsWith('/workflows.yaml'))?.[1] ?? '';
  // From its name to the end of its document or the next action at the start of a line.
  const workerConfig = workflowsYaml.split('name: docflow-worker-config')[1]?.split(/\n---|\n\{\{/)[0] ?? '';
  if (!workerConfig) problems.push('workflows.yaml: no ConfigMap docflow-worker-config');
  for (const m of workerConfig.matchAll(/\b(?:include|template)\s+"([^"]+)"/g))
    if (!WORKER_CONFIG_HELPERS.includes(m[1]))
      problems.push(
        `workflows.yaml: docflow-worker-config takes ${m[1]}: the steps' addresses come from ${WORKER_CONFIG_HELPERS.slice(2).join(', ')} (qualified with the release's namespace)`,
      );
  if (/\.Release\.Name\b|\.Values\.(nats|redis|postgresql)\b/.test(workerConfig))
    problems.push(
      'workflows.yaml: docflow-worker-config builds an address itself: use a docflow.workflow* helper',
    );
  for (const name of WORKER_CONFIG_HELPERS.slice(2)) {
    const body = helperBody(name);
    if (
      !/\{\{-?\s*if\s+(\(?and\s+)?\.Values\.workflows\.namespace\b/.test(body) ||
      !/\.%s\.svc\b/.test(body) ||
      !/\.Release\.Namespace\b/.test(body)
    )
      problems.push(
        `_helpers.tpl: ${name} does not qualify its address with .Release.Namespace (<name>.%s.svc) when workflows.namespace is set`,
      );
  }

  // The gateway's private port admits the worker pods of the workflows' namespace; the data stores admit no
  // pod of another namespace (podSelector-only peers) and no worker pod.
  const isWorkerSelector = (selector) =>
    JSON.stringify(selector?.matchLabels ?? {}) === JSON.stringify(WORKER_POD_LABELS) &&
    !selector?.matchExpressions;
  for (const { key, file, doc } of objects) {
    if (doc.kind !== 'NetworkPolicy') continue;
    const peers = (doc.spec?.ingress ?? []).flatMap((rule) => rule.from ?? []);
    if (/-private$/.test(doc.metadata?.name)) {
      const fromWorkflowNamespace = peers.some(
        (peer) =>
          JSON.stringify(peer.namespaceSelector) ===
            JSON.stringify({ matchLabels: { 'kubernetes.io/metadata.name': WORKFLOWS_NAMESPACE } }) &&
          isWorkerSelector(peer.podSelector),
      );
      if (!fromWorkflowNamespace)
        problems.push(
          `${file}: ${label(key)} admits no worker pods of the workflows' namespace (a peer with namespaceSelector kubernetes.io/metadata.name: ${ARGO_NAMESPACE_VALUE} and the worker podSelector)`,
        );
    } else if (/-clients$/.test(doc.metadata?.name)) {
      for (const peer of peers) {
        const excluded = (peer.podSelector?.matchExpressions ?? []).some(
          (e) =>
            e.key === 'app.kubernetes.io/component' && e.operator === 'NotIn' && e.values?.includes('worker'),
        );
        if (Object.keys(peer).join() !== 'podSelector' || !excluded)
          problems.push(
            `${file}: ${label(key)} admits ${JSON.stringify(peer)}: only pods of its own namespace (a podSelector alone) that are not workers`,
          );
      }
    }
  }
  return problems;
}

function loadChart(chart) {
  const workflowTemplate = path.join(chart, 'files', 'docflow-transform.yaml');
  return {
    chart,
    templates: new Map(templateFiles(chart).map((file) => [file, readFileSync(file, 'utf8')])),
    workflowTemplate: existsSync(workflowTemplate) ? readFileSync(workflowTemplate, 'utf8') : undefined,
    values: readYamlFile(path.join(chart, 'values.yaml')),
    schema: JSON.parse(readFileSync(path.join(chart, 'values.schema.json'), 'utf8')),
  };
}

/** Every check; returns the problems found (empty: the chart passes). */
function checkChart(chart = DEFAULT_CHART, root = ROOT) {
  const loaded = loadChart(chart);
  const { problems: schemaProblems, merged } = checkSchema(loaded);
  return [
    ...checkValuesPaths(loaded),
    ...schemaProblems,
    ...checkIncludes(loaded),
    ...checkRbac(loaded, root),
    ...checkWorkflowNamespace(loaded, merged),
    ...checkEnvironment(loaded, root),
    ...checkResources(merged),
    ...checkSemaphoreKeys(merged),
    ...checkMasterKey(loaded, merged),
    ...checkSigningKeys(loaded, merged),
    ...checkWorkflowTemplate(chart, root),
  ];
}

if (require.main === module) {
  const chart = path.resolve(process.argv[2] ?? DEFAULT_CHART);
  const problems = checkChart(chart);
  for (const problem of problems) console.log(`PROBLEM ${problem}`);
  console.log(
    problems.length
      ? `chart-check: ${problems.length} problem(s) in ${path.relative(process.cwd(), chart) || chart}`
      : `chart-check: ${path.relative(process.cwd(), chart) || chart} ok (values paths, schema with examples, includes, RBAC, workflow namespace, environment, limits, master key to key-vault only, signing keys to identity only, WorkflowTemplate link); rendering is not checked here (CI: helm template | kubeconform)`,
  );
  process.exitCode = problems.length ? 1 : 0;
}

module.exports = {
  CLIENT_CALLS,
  EXPECTED_BINDINGS,
  EXPECTED_ROLES,
  WORKFLOW_NAMESPACE_OBJECTS,
  MASTER_KEY_SECRET_KEYS,
  SIGNING_KEYS_SECRET_KEYS,
  bytesOf,
  checkChart,
  checkEnvironment,
  checkIncludes,
  checkMasterKey,
  checkRbac,
  checkResources,
  checkSigningKeys,
  checkSchema,
  checkSemaphoreKeys,
  checkValuesPaths,
  checkWorkflowNamespace,
  checkWorkflowTemplate,
  loadChart,
  mergeValues,
  staticDocuments,
};
