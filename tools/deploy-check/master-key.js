#!/usr/bin/env node
// The key vault's master key reaches the key-vault pods only (docs/key-vault.md), checked on rendered manifests:
//
//   node tools/deploy-check/master-key.js <manifests.yaml>...      e.g. the output of `helm template` (CI)
//
// k8s.js applies the same rule to every kustomize rendering. An object breaks it when it is not a key-vault
// workload (a Deployment or Job labelled app.kubernetes.io/component key-vault or key-vault-rotate) and
// - names the Secret key master-key or master-key-previous anywhere (secretKeyRef, a projected or secret
//   volume's items), or
// - takes a whole Secret (envFrom secretRef, a secret volume) that holds such a key in this rendering, or
//   that the rendering does not contain (its keys are unknown: the base's docflow-secrets, an existingSecret).
// And the rendering must give the master key to key-vault (a key-vault Deployment with MASTER_KEY from master-key).
// Exit codes: 0 fine, 1 problems found.
'use strict';
const { readFileSync } = require('node:fs');
const YAML = require('yaml');

const MASTER_KEY_SECRET_KEYS = ['master-key', 'master-key-previous'];
const HOLDERS = ['key-vault', 'key-vault-rotate'];
const WORKLOADS = ['Deployment', 'Job'];

const componentOf = (object) => object?.metadata?.labels?.['app.kubernetes.io/component'];

/** Every `{ key, value, parentKey }` below `node`. */
function* walk(node, parentKey) {
  if (Array.isArray(node)) {
    for (const item of node) yield* walk(item, parentKey);
    return;
  }
  if (!node || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    yield { key, value, parentKey };
    yield* walk(value, key);
  }
}

/** The Secret keys an object names, and the Secrets it takes whole. */
function secretUse(object) {
  const keys = [];
  const whole = [];
  for (const { key, value, parentKey } of walk(object.spec)) {
    if (key === 'secretKeyRef' && value?.key) keys.push(value.key);
    // envFrom: [{ secretRef: { name } }]
    if (key === 'secretRef' && value?.name) whole.push(value.name);
    // volumes: [{ secret: { secretName, items? } }], projected sources: [{ secret: { name, items? } }]
    if (key === 'secret' && value && typeof value === 'object' && parentKey !== 'valueFrom') {
      const name = value.secretName ?? value.name;
      if (value.items?.length) keys.push(...value.items.map((item) => item.key));
      else if (name) whole.push(name);
    }
  }
  return { keys, whole };
}

/**
 * Checks one rendering (a list of objects). Returns the issues per object (objects without issues are absent)
 * and, when no key-vault Deployment takes MASTER_KEY from master-key, `undelivered`.
 */
function masterKeyReport(objects) {
  const byObject = new Map();
  const holdsMasterKey = new Map();
  for (const object of objects) {
    if (object?.kind !== 'Secret') continue;
    const keys = [...Object.keys(object.data ?? {}), ...Object.keys(object.stringData ?? {})];
    holdsMasterKey.set(
      object.metadata?.name,
      keys.some((key) => MASTER_KEY_SECRET_KEYS.includes(key)),
    );
  }
  let delivered = false;
  for (const object of objects) {
    if (!object || typeof object !== 'object' || object.kind === 'Secret') continue;
    const holder = WORKLOADS.includes(object.kind) && HOLDERS.includes(componentOf(object));
    const { keys, whole } = secretUse(object);
    if (holder && object.kind === 'Deployment') {
      const env = (object.spec?.template?.spec?.containers ?? []).flatMap((c) => c.env ?? []);
      if (env.some((e) => e.name === 'MASTER_KEY' && e.valueFrom?.secretKeyRef?.key === 'master-key'))
        delivered = true;
    }
    if (holder) continue;
    const issues = [];
    for (const key of keys.filter((k) => MASTER_KEY_SECRET_KEYS.includes(k)))
      issues.push(`names the Secret key ${key}: only key-vault may`);
    for (const name of whole) {
      if (name.includes('{{')) continue; // a per-job Secret of the WorkflowTemplate, made at run time
      if (holdsMasterKey.get(name) !== false)
        issues.push(
          `takes the whole Secret ${name}, which ${holdsMasterKey.has(name) ? 'holds' : 'may hold'} the master key`,
        );
    }
    if (issues.length) byObject.set(object, issues);
  }
  return {
    byObject,
    undelivered: delivered
      ? undefined
      : 'no key-vault Deployment takes MASTER_KEY from the Secret key master-key',
  };
}

/** The report as lines, each prefixed with `where`. */
function masterKeyProblems(objects, where = '') {
  const { byObject, undelivered } = masterKeyReport(objects);
  const problems = [];
  for (const [object, issues] of byObject)
    for (const issue of issues) problems.push(`${where}${object.kind}/${object.metadata?.name} ${issue}`);
  if (undelivered) problems.push(`${where}${undelivered}`);
  return problems;
}

if (require.main === module) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: node tools/deploy-check/master-key.js <manifests.yaml>...');
    process.exit(2);
  }
  let count = 0;
  for (const file of files) {
    const objects = YAML.parseAllDocuments(readFileSync(file === '-' ? 0 : file, 'utf8'))
      .map((doc) => doc.toJS())
      .filter(Boolean);
    const problems = masterKeyProblems(objects, `${file}: `);
    for (const problem of problems) console.log(`PROBLEM ${problem}`);
    count += problems.length;
  }
  console.log(
    count
      ? `master-key-check: ${count} problem(s)`
      : 'master-key-check: the master key reaches key-vault only',
  );
  process.exitCode = count ? 1 : 0;
}

module.exports = { MASTER_KEY_SECRET_KEYS, masterKeyProblems, masterKeyReport, secretUse };
