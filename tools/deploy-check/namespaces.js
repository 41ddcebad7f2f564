#!/usr/bin/env node
// Checks a rendering of charts/docflow with workflows.namespace set (CI: `helm template … -f
// examples/workflow-namespace.yaml`; no helm runs on the development machines, where chart.js reads the templates
// statically instead):
//
//   node tools/deploy-check/namespaces.js --release <namespace> --workflows <namespace> <rendered.yaml>...
//
// - the workflow objects (WORKFLOW_OBJECTS) are in the workflows' namespace, and nothing else is: every other
//   namespaced object has no metadata.namespace (`helm template --namespace` leaves it out: the release's) or the
//   release's; the only Namespace the chart may create is the workflows' one;
// - the RoleBinding <release>-jobs binds the ServiceAccount <release>-jobs of the release's namespace, and
//   docflow-workflow binds docflow-workflow of the workflows' namespace; both refer to the Role of their name;
// - the jobs Deployment's ARGO_NAMESPACE is the workflows' namespace;
// - docflow-worker-config names the gateway's private Service as <name>.<release namespace>.svc, and S3_ENDPOINT (if
//   any) by a name with a dot (a short name would resolve in the workflows' namespace);
// - the gateway-private NetworkPolicy admits worker pods of the workflows' namespace; the data stores' (-clients)
//   admit pods of their own namespace only (podSelector-only peers).
// Exit codes: 0 fine, 1 problems found, 2 usage.
'use strict';
const { readFileSync } = require('node:fs');
const YAML = require('yaml');

/** kind/name of the objects that go to the workflows' namespace; `*-jobs`: <fullname>-jobs. */
const WORKFLOW_OBJECTS = [
  'WorkflowTemplate/docflow-transform',
  'ConfigMap/docflow-semaphores',
  'ConfigMap/docflow-worker-config',
  'Secret/docflow-s3',
  'Secret/docflow-provider',
  'ServiceAccount/docflow-workflow',
  'Role/docflow-workflow',
  'RoleBinding/docflow-workflow',
  'Role/*-jobs',
  'RoleBinding/*-jobs',
];
/** Objects that are not namespaced (Helm's --namespace does not apply to them). */
const CLUSTER_SCOPED = ['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition'];
/** Objects that may be absent from a rendering (docflow-provider: only with secrets.providerApiKey). */
const OPTIONAL = ['Secret/docflow-provider', 'Secret/docflow-s3'];
const WORKER_LABELS = { 'app.kubernetes.io/part-of': 'docflow', 'app.kubernetes.io/component': 'worker' };

const keyOf = (o) => `${o.kind}/${o.metadata?.name}`;
const matches = (pattern, key) =>
  pattern.includes('*') ? new RegExp(`^${pattern.replace('*', '[a-z0-9-]+')}$`).test(key) : pattern === key;
const isWorkflowObject = (key) => WORKFLOW_OBJECTS.some((pattern) => matches(pattern, key));
const hostOf = (url) => {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
};

/** The problems of one rendering (a list of objects); `where` prefixes each. */
function namespaceProblems(objects, { release, workflows }, where = '') {
  const problems = [];
  const found = objects.filter((o) => o && typeof o === 'object' && o.kind);
  for (const pattern of WORKFLOW_OBJECTS)
    if (!OPTIONAL.includes(pattern) && !found.some((o) => matches(pattern, keyOf(o))))
      problems.push(`${where}no ${pattern} in the rendering`);
  for (const object of found) {
    const key = keyOf(object);
    const namespace = object.metadata?.namespace;
    if (object.kind === 'Namespace') {
      if (object.metadata?.name !== workflows)
        problems.push(`${where}${key}: the chart creates no namespace but the workflows' (${workflows})`);
    } else if (CLUSTER_SCOPED.includes(object.kind)) {
      problems.push(`${where}${key}: a cluster-scoped object`);
    } else if (isWorkflowObject(key)) {
      if (namespace !== workflows)
        problems.push(`${where}${key} is in ${namespace ?? `${release} (none given)`}, not ${workflows}`);
    } else if (namespace !== undefined && namespace !== release) {
      problems.push(`${where}${key} is in ${namespace}: only the workflow objects leave ${release}`);
    }
  }

  const jobsBinding = found.find((o) => o.kind === 'RoleBinding' && /-jobs$/.test(o.metadata?.name ?? ''));
  const expectBinding = (binding, name, namespace) => {
    if (!binding) return;
    const subjects = JSON.stringify(binding.subjects ?? []);
    if (subjects !== JSON.stringify([{ kind: 'ServiceAccount', name, namespace }]))
      problems.push(
        `${where}${keyOf(binding)} binds ${subjects}, expected the ServiceAccount ${name} of ${namespace} alone`,
      );
    if (binding.roleRef?.kind !== 'Role' || binding.roleRef?.name !== binding.metadata?.name)
      problems.push(`${where}${keyOf(binding)} refers to ${JSON.stringify(binding.roleRef)}`);
  };
  expectBinding(jobsBinding, jobsBinding?.metadata?.name, release);
  expectBinding(
    found.find((o) => keyOf(o) === 'RoleBinding/docflow-workflow'),
    'docflow-workflow',
    workflows,
  );

  const jobs = found.find(
    (o) => o.kind === 'Deployment' && o.metadata?.labels?.['app.kubernetes.io/component'] === 'jobs',
  );
  const argoNamespace = (jobs?.spec?.template?.spec?.containers ?? [])
    .flatMap((c) => c.env ?? [])
    .find((e) => e.name === 'ARGO_NAMESPACE')?.value;
  if (jobs && argoNamespace !== workflows)
    problems.push(`${where}${keyOf(jobs)}: ARGO_NAMESPACE is ${argoNamespace}, not ${workflows}`);

  const config = found.find((o) => keyOf(o) === 'ConfigMap/docflow-worker-config')?.data ?? {};
  const callback = hostOf(config.DOCFLOW_CALLBACK_URL);
  if (!new RegExp(`^[a-z0-9-]+-gateway-private\\.${release}\\.svc$`).test(callback))
    problems.push(
      `${where}docflow-worker-config: DOCFLOW_CALLBACK_URL ${config.DOCFLOW_CALLBACK_URL} is not <release>-gateway-private.${release}.svc`,
    );
  if (config.S3_ENDPOINT !== undefined && !hostOf(config.S3_ENDPOINT).includes('.'))
    problems.push(
      `${where}docflow-worker-config: S3_ENDPOINT ${config.S3_ENDPOINT} is a short name (it resolves in ${workflows})`,
    );

  for (const policy of found.filter((o) => o.kind === 'NetworkPolicy')) {
    const peers = (policy.spec?.ingress ?? []).flatMap((rule) => rule.from ?? []);
    if (/-gateway-private$/.test(policy.metadata?.name ?? '')) {
      const admitted = peers.some(
        (peer) =>
          JSON.stringify(peer.namespaceSelector) ===
            JSON.stringify({ matchLabels: { 'kubernetes.io/metadata.name': workflows } }) &&
          JSON.stringify(peer.podSelector) === JSON.stringify({ matchLabels: WORKER_LABELS }),
      );
      if (!admitted) problems.push(`${where}${keyOf(policy)} admits no worker pods of ${workflows}`);
    } else if (/-clients$/.test(policy.metadata?.name ?? '')) {
      for (const peer of peers)
        if (Object.keys(peer).join() !== 'podSelector')
          problems.push(`${where}${keyOf(policy)} admits ${JSON.stringify(peer)}: pods of ${release} only`);
    }
  }
  return problems;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const option = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args.splice(i, 2)[1] : undefined;
  };
  const release = option('--release');
  const workflows = option('--workflows');
  if (!release || !workflows || !args.length) {
    console.error(
      'usage: node tools/deploy-check/namespaces.js --release <namespace> --workflows <namespace> <rendered.yaml>...',
    );
    process.exit(2);
  }
  const problems = args.flatMap((file) =>
    namespaceProblems(
      YAML.parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS()),
      { release, workflows },
      `${file}: `,
    ),
  );
  for (const problem of problems) console.log(`PROBLEM ${problem}`);
  console.log(
    problems.length
      ? `namespaces: ${problems.length} problem(s)`
      : `namespaces: ok (workflow objects in ${workflows}, the rest in ${release})`,
  );
  process.exitCode = problems.length ? 1 : 0;
}

module.exports = { WORKFLOW_OBJECTS, namespaceProblems };
