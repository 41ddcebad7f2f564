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
// The same rule keeps identity's JWT signing keys (Secret key jwt-signing-keys) and the bootstrap admin's
// password (bootstrap-admin-password) to the identity pods, which must take JWT_SIGNING_KEYS from
// jwt-signing-keys (docs/identity.md).
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
 * A Secret kept to one service's pods: which Secret keys hold it, which workloads (by component label) may
 * read them, and the variable the service's Deployment must take from `delivery.key`.
 */
const MASTER_KEY_RULE = {
  holder: 'key-vault',
  holders: HOLDERS,
  keys: MASTER_KEY_SECRET_KEYS,
  what: 'the master key',
  delivery: { env: 'MASTER_KEY', key: 'master-key' },
};
/** identity's JWT signing keys (docs/identity.md), and the bootstrap admin's password. */
const SIGNING_KEYS_RULE = {
  holder: 'identity',
  holders: ['identity'],
  keys: ['jwt-signing-keys', 'bootstrap-admin-password'],
  what: 'the signing keys',
  delivery: { env: 'JWT_SIGNING_KEYS', key: 'jwt-signing-keys' },
};

/**
 * Checks one rendering (a list of objects) against a rule. Returns the issues per object (objects without
 * issues are absent) and, when no holder Deployment takes the delivery variable from its key, `undelivered`.
 */
function confinedSecretReport(objects, rule) {
  const byObject = new Map();
  const holdsSecret = new Map();
  for (const object of objects) {
    if (object?.kind !== 'Secret') continue;
    const keys = [...Object.keys(object.data ?? {}), ...Object.keys(object.stringData ?? {})];
    holdsSecret.set(
      object.metadata?.name,
      keys.some((key) => rule.keys.includes(key)),
    );
  }
  let delivered = false;
  for (const object of objects) {
    if (!object || typeof object !== 'object' || object.kind === 'Secret') continue;
    const holder = WORKLOADS.includes(object.kind) && rule.holders.includes(componentOf(object));
    const { keys, whole } = secretUse(object);
    if (holder && object.kind === 'Deployment') {
      const env = (object.spec?.template?.spec?.containers ?? []).flatMap((c) => c.env ?? []);
      if (
        env.some((e) => e.name === rule.delivery.env && e.valueFrom?.secretKeyRef?.key === rule.delivery.key)
      )
        delivered = true;
    }
    if (holder) continue;
    const issues = [];
    for (const key of keys.filter((k) => rule.keys.includes(k)))
      issues.push(`names the Secret key ${key}: only ${rule.holder} may`);
    for (const name of whole) {
      if (name.includes('{{')) continue; // a per-job Secret of the WorkflowTemplate, made at run time
      if (holdsSecret.get(name) !== false)
        issues.push(
          `takes the whole Secret ${name}, which ${holdsSecret.has(name) ? 'holds' : 'may hold'} ${rule.what}`,
        );
    }
    if (issues.length) byObject.set(object, issues);
  }
  return {
    byObject,
    undelivered: delivered
      ? undefined
      : `no ${rule.holder} Deployment takes ${rule.delivery.env} from the Secret key ${rule.delivery.key}`,
  };
}

/** The master key rule (see the header). */
const masterKeyReport = (objects) => confinedSecretReport(objects, MASTER_KEY_RULE);
/** The signing keys rule: jwt-signing-keys and bootstrap-admin-password reach identity's pods only. */
const signingKeysReport = (objects) => confinedSecretReport(objects, SIGNING_KEYS_RULE);

/** The report as lines, each prefixed with `where`. */
function masterKeyProblems(objects, where = '', report = masterKeyReport) {
  const { byObject, undelivered } = report(objects);
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
    const problems = [
      ...masterKeyProblems(objects, `${file}: `),
      ...masterKeyProblems(objects, `${file}: `, signingKeysReport),
    ];
    for (const problem of problems) console.log(`PROBLEM ${problem}`);
    count += problems.length;
  }
  console.log(
    count
      ? `master-key-check: ${count} problem(s)`
      : 'master-key-check: the master key reaches key-vault only, the signing keys identity only',
  );
  process.exitCode = count ? 1 : 0;
}

module.exports = {
  MASTER_KEY_RULE,
  MASTER_KEY_SECRET_KEYS,
  SIGNING_KEYS_RULE,
  confinedSecretReport,
  masterKeyProblems,
  masterKeyReport,
  secretUse,
  signingKeysReport,
};
