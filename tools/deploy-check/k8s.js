#!/usr/bin/env node
// Renders kustomizations with `kubectl kustomize` (offline) and validates every object:
//
//   node tools/deploy-check/k8s.js [kustomization-dir...]      default: k8s/base and k8s/overlays/dev
//
// - Kubernetes kinds against the API schemas of the `kubernetes-models` validators (types, required fields,
//   formats; like the upstream schemas they let unknown fields through: CI's kubeconform -strict catches those);
// - Argo kinds against ../shared/argo (Argo Workflows v4.1: schema.json, the CRD, docflow's strict check) with
//   libs/workflow-engine's validator, as tools/argo/validate.js does;
// - docflow's own rules: every container has CPU and memory requests and limits (memory at most 4 GiB), runs as
//   non-root with a read-only root filesystem and no privilege escalation; every platform Deployment has
//   liveness and readiness probes; every ConfigMap, Secret and ServiceAccount a pod or the WorkflowTemplate
//   names is in the output (or optional); the platform's environment names are fields of its config schema;
//   the master key reaches the key-vault pods only, and they get it, and the JWT signing keys (and the
//   bootstrap admin's password) the identity pods only, which get them (tools/deploy-check/master-key.js).
// Uses the built lib (libs/workflow-engine/dist): run `npm run build` first. Exit codes: 0 valid, 1 invalid,
// 2 kubectl, the schemas or the built lib are missing.
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const YAML = require('yaml');
const { masterKeyReport, signingKeysReport } = require('./master-key');

const ROOT = path.resolve(__dirname, '..', '..');
// The base leaves the Secrets to an overlay or a secret manager; the dev overlay must be complete.
const DEFAULTS = [
  { directory: 'k8s/base', external: ['Secret/docflow-secrets', 'Secret/docflow-s3'] },
  { directory: 'k8s/overlays/dev', external: [] },
];
const MAX_MEMORY_BYTES = 4 * 1024 ** 3;
const PLATFORM = ['gateway', 'users-docs', 'jobs', 'key-vault', 'user-details', 'identity'];

class SetupError extends Error {}

function render(directory) {
  try {
    const out = execFileSync('kubectl', ['kustomize', directory], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
    return YAML.parseAllDocuments(out)
      .map((doc) => doc.toJS())
      .filter(Boolean);
  } catch (error) {
    if (error.code === 'ENOENT')
      throw new SetupError('kubectl is not installed: it renders the kustomizations');
    throw new Error(`kubectl kustomize ${directory} failed: ${String(error.stderr || error.message).trim()}`);
  }
}

function loadArgoValidator() {
  let lib;
  try {
    lib = require('@docflow/workflow-engine');
  } catch (error) {
    if (error && error.code === 'MODULE_NOT_FOUND')
      throw new SetupError('libs/workflow-engine is not built; run `npm run build` first');
    throw error;
  }
  try {
    return { lib, validator: lib.ArgoValidator.forDirectory(lib.argoSchemasDirectory()) };
  } catch (error) {
    throw new SetupError(error instanceof Error ? error.message : String(error));
  }
}

/** `apps/v1` + `Deployment` → the kubernetes-models class, or undefined for a kind it does not model. */
async function modelFor(apiVersion, kind) {
  const specifier = `kubernetes-models/${apiVersion}/${kind}`;
  try {
    const module = await import(specifier);
    return module[kind];
  } catch {
    return undefined;
  }
}

const UNITS = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
function bytesOf(quantity) {
  const m = /^([0-9.]+)([A-Za-z]*)$/.exec(String(quantity ?? ''));
  return m ? Number(m[1]) * (m[2] ? (UNITS[m[2]] ?? NaN) : 1) : NaN;
}

function podSpecOf(object) {
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(object.kind))
    return object.spec?.template?.spec;
  if (object.kind === 'CronJob') return object.spec?.jobTemplate?.spec?.template?.spec;
  if (object.kind === 'Pod') return object.spec;
  return undefined;
}

/** docflow's rules for the pods (see the header). */
function checkPods(object) {
  const spec = podSpecOf(object);
  if (!spec) return [];
  const problems = [];
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  if (spec.securityContext?.runAsNonRoot !== true) problems.push('the pod does not set runAsNonRoot: true');
  for (const c of containers) {
    const where = `container ${c.name}`;
    const { requests, limits } = c.resources ?? {};
    if (!requests?.cpu || !requests?.memory || !limits?.cpu || !limits?.memory)
      problems.push(`${where} lacks CPU or memory requests or limits`);
    else if (!(bytesOf(limits.memory) <= MAX_MEMORY_BYTES))
      problems.push(`${where} memory limit ${limits.memory} is above 4Gi`);
    if (c.securityContext?.readOnlyRootFilesystem !== true)
      problems.push(`${where} has a writable root filesystem`);
    if (c.securityContext?.allowPrivilegeEscalation !== false)
      problems.push(`${where} allows privilege escalation`);
    const component = object.metadata?.labels?.['app.kubernetes.io/component'];
    if (
      object.kind === 'Deployment' &&
      PLATFORM.includes(component) &&
      (!c.livenessProbe || !c.readinessProbe)
    )
      problems.push(`${where} has no liveness or readiness probe`);
  }
  return problems;
}

/** The ConfigMaps, Secrets and ServiceAccounts a workload names, with whether the reference is optional. */
function references(object) {
  const refs = [];
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'secretKeyRef' || key === 'secretRef') && value?.name)
        refs.push({ kind: 'Secret', name: value.name, optional: value.optional === true });
      else if ((key === 'configMapKeyRef' || key === 'configMapRef') && value?.name)
        refs.push({ kind: 'ConfigMap', name: value.name, optional: value.optional === true });
      else if (key === 'serviceAccountName' && typeof value === 'string')
        refs.push({ kind: 'ServiceAccount', name: value, optional: false });
      walk(value);
    }
  };
  walk(object.spec);
  // Names with Argo parameters (the per-job Secret docflow-job-{{…}}) are made at run time.
  return refs.filter((ref) => !ref.name.includes('{{'));
}

function checkEnvironmentNames(object) {
  const component = object.metadata?.labels?.['app.kubernetes.io/component'];
  if (object.kind !== 'Deployment' || !PLATFORM.includes(component)) return [];
  const { configFields } = require('./config-fields');
  const fields = configFields(component, ROOT);
  if (!fields) return [`apps/${component}/src/config.ts not found`];
  const problems = [];
  for (const c of podSpecOf(object)?.containers ?? []) {
    for (const { name } of c.env ?? []) {
      if (!fields.has(name))
        problems.push(`container ${c.name}: ${name} is not a field of apps/${component}/src/config.ts`);
    }
  }
  return problems;
}

/**
 * The jobs service's SEMAPHORE_KEYS (default `default`) must be exactly the keys of the ConfigMap
 * docflow-semaphores: a key it uses that the ConfigMap lacks fails every step of such a job (Argo does not
 * create semaphore keys), and a key it does not know is never used.
 */
function checkSemaphoreKeys(object, objects) {
  const component = object.metadata?.labels?.['app.kubernetes.io/component'];
  if (object.kind !== 'Deployment' || component !== 'jobs') return [];
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata?.name === 'docflow-semaphores');
  if (!configMap) return [];
  const inConfigMap = Object.keys(configMap.data ?? {}).sort();
  const problems = [];
  for (const c of podSpecOf(object)?.containers ?? []) {
    const setting = (c.env ?? []).find((e) => e.name === 'SEMAPHORE_KEYS');
    const listed = String(setting?.value ?? 'default')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean)
      .sort();
    if (listed.join(',') !== inConfigMap.join(','))
      problems.push(
        `container ${c.name}: SEMAPHORE_KEYS (${listed.join(',')}) must be the keys of ConfigMap ` +
          `docflow-semaphores (${inConfigMap.join(',')})`,
      );
  }
  return problems;
}

/**
 * kustomize folds long base64 values of a Secret's data over several lines; the API server's decoder ignores
 * the line breaks, the `byte` format of the schema does not.
 */
function asTheApiServerReadsIt(object) {
  if (object.kind !== 'Secret' || !object.data) return object;
  const data = Object.fromEntries(
    Object.entries(object.data).map(([k, v]) => [k, String(v).replace(/\s+/g, '')]),
  );
  return { ...object, data };
}

/**
 * Validates the objects of one rendering; returns one report per object, and one for the rendering as a whole
 * (`object: undefined`) when it has problems of its own.
 */
async function validateObjects(objects, argo, external = []) {
  const present = new Set([...objects.map((o) => `${o.kind}/${o.metadata?.name}`), ...external]);
  const masterKey = masterKeyReport(objects);
  const signingKeys = signingKeysReport(objects);
  const reports = [];
  for (const object of objects) {
    const issues = [];
    const { apiVersion, kind } = object;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
      reports.push({ object, issues: ['no apiVersion or kind'] });
      continue;
    }
    if (apiVersion.startsWith('argoproj.io/')) {
      issues.push(...argo.validator.validate(kind, object).map((i) => `${i.source} ${i.path}: ${i.message}`));
    } else {
      const Model = await modelFor(apiVersion, kind);
      if (!Model) issues.push(`kubernetes-models has no ${apiVersion} ${kind}`);
      else {
        try {
          new Model(asTheApiServerReadsIt(object)).validate();
        } catch (error) {
          issues.push(`schema: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
    issues.push(
      ...checkPods(object),
      ...checkEnvironmentNames(object),
      ...checkSemaphoreKeys(object, objects),
      ...(masterKey.byObject.get(object) ?? []),
      ...(signingKeys.byObject.get(object) ?? []),
    );
    for (const ref of references(object)) {
      if (!ref.optional && !present.has(`${ref.kind}/${ref.name}`))
        issues.push(`names ${ref.kind} ${ref.name}, which the rendering does not contain`);
    }
    reports.push({ object, issues });
  }
  if (masterKey.undelivered) reports.push({ object: undefined, issues: [masterKey.undelivered] });
  if (signingKeys.undelivered) reports.push({ object: undefined, issues: [signingKeys.undelivered] });
  return reports;
}

/** Targets: `{ directory, external }`, external naming objects the rendering may reference without holding. */
async function checkKustomizations(targets, log = console.log) {
  const argo = loadArgoValidator();
  let invalid = 0;
  let total = 0;
  for (const { directory, external = [] } of targets) {
    const objects = render(path.resolve(ROOT, directory));
    if (objects.length === 0) throw new Error(`kubectl kustomize ${directory} rendered nothing`);
    for (const { object, issues } of await validateObjects(objects, argo, external)) {
      total++;
      const what = object
        ? `${directory}: ${object.kind}/${object.metadata?.name}`
        : `${directory}: the rendering`;
      if (issues.length) {
        invalid++;
        log(`INVALID ${what}\n${issues.map((i) => `  - ${i}`).join('\n')}`);
      } else {
        log(`ok      ${what}`);
      }
    }
  }
  log(
    `${total - invalid} valid, ${invalid} invalid (Kubernetes: kubernetes-models; Argo: ${argo.validator.files.directory})`,
  );
  return invalid;
}

if (require.main === module) {
  const directories = process.argv.slice(2);
  const targets = directories.length ? directories.map((directory) => ({ directory })) : DEFAULTS;
  checkKustomizations(targets).then(
    (invalid) => {
      process.exitCode = invalid ? 1 : 0;
    },
    (error) => {
      console.error(`k8s-check: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = error instanceof SetupError ? 2 : 1;
    },
  );
}

module.exports = { checkKustomizations, checkPods, references, render, validateObjects };
