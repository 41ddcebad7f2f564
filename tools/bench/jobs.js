#!/usr/bin/env node
// `npm run bench:jobs`: the jobs benchmarks of issue 4, in one run:
//   1. submission latency of the argo driver: ArgoWorkflowEngine.submit against the fake Kubernetes API server
//      (validation, Workflow created suspended, Secret owned by it, resume), and the validation time per Workflow;
//   2. 1,000 small documents through the local engine: the platform started isolated as `npm start` does, one
//      job over all of them, wall time, documents/s, POST latency and the platform overhead per document;
//   3. the Workflow of a 10,000-document job: its size against etcd's 1 MB and the pods it would create;
//   4. SSE delivery latency: signed callbacks posted to the private API, timed until they arrive on the job's
//      event stream.
// Everything runs isolated (its own database, nats-server, S3 server, ports and DOCFLOW_HOME) and is removed
// afterwards, also on failure and on Ctrl-C. See tools/bench/README.md.
'use strict';
// The AWS SDK's notice about Node 20 would otherwise be printed in the middle of the results.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { spawn, spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { mkdtempSync, readFileSync, readdirSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createInterface } = require('node:readline');
const { GetObjectCommand, S3Client } = require('@aws-sdk/client-s3');
const { Client } = require('pg');
const {
  CALLBACK_SIGNATURE_HEADER,
  CALLBACK_TIMESTAMP_HEADER,
  jobOutputPrefix,
  signCallback,
} = require('@docflow/contracts');
const { dropDatabase, ensureDatabase } = require('@docflow/database');
const { freePort, waitFor } = require('@docflow/local-platform');
const {
  ArgoValidator,
  ArgoWorkflowEngine,
  argoSchemasDirectory,
  buildWorkflow,
  loadKubernetesClient,
  workflowNameFor,
} = require('@docflow/workflow-engine');

const ROOT = path.resolve(__dirname, '../..');
const LAUNCHER = path.join(ROOT, 'tools', 'local', 'start.js');
const FAKE_KUBE_API = path.join(
  ROOT,
  'libs',
  'workflow-engine',
  'dist',
  'argo',
  'testing',
  'fake-kube-api.js',
);
const JOBS_CONFIG = path.join(ROOT, 'apps', 'jobs', 'dist', 'config.js');

// ---------------------------------------------------------------------------------------------- settings

function numberFromEnv(name, fallback, { integer = false, positive = false } = {}) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (
    !Number.isFinite(value) ||
    value < 0 ||
    (positive && value === 0) ||
    (integer && !Number.isInteger(value))
  )
    throw new Error(
      `${name} must be a ${positive ? 'positive' : 'non-negative'} ${integer ? 'integer' : 'number'}, got "${raw}"`,
    );
  return value;
}

function listFromEnv(name, fallback) {
  const raw = process.env[name];
  return (raw === undefined || raw === '' ? fallback : raw)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

const ALL_PARTS = ['submit', 'post', 'local', 'size', 'sse'];

const SETTINGS = {
  parts: listFromEnv('BENCH_PARTS', ALL_PARTS.join(',')),
  /** 1: measured engine.submit calls (after one unmeasured first call). */
  submits: numberFromEnv('BENCH_SUBMITS', 200, { integer: true, positive: true }),
  /** 1: chunks of each submitted job (40 = 1,000 documents at 25 per chunk). */
  submitChunks: numberFromEnv('BENCH_SUBMIT_CHUNKS', 40, { integer: true, positive: true }),
  /** 1b: jobs posted through the public API of a platform on the argo driver (after 3 unmeasured ones). */
  posts: numberFromEnv('BENCH_POSTS', 100, { integer: true, positive: true }),
  /** 2: documents of the local job. */
  docs: numberFromEnv('BENCH_DOCS', 1000, { integer: true, positive: true }),
  /** 2: approximate size of each document in bytes (whole lines, so slightly more). */
  docBytes: numberFromEnv('BENCH_DOC_BYTES', 1500, { integer: true, positive: true }),
  /** 2: documents created and uploaded at once. */
  uploadConcurrency: numberFromEnv('BENCH_UPLOAD_CONCURRENCY', 16, { integer: true, positive: true }),
  /** 3: documents of the job whose Workflow is measured. */
  sizeDocs: numberFromEnv('BENCH_SIZE_DOCS', 10_000, { integer: true, positive: true }),
  /** 4: callbacks sent one after the other (after BENCH_SSE_WARMUP unmeasured ones). */
  sseEvents: numberFromEnv('BENCH_SSE_EVENTS', 500, { integer: true }),
  sseWarmup: numberFromEnv('BENCH_SSE_WARMUP', 20, { integer: true }),
  /** 4: callbacks sent at once in each burst, and how many bursts. */
  sseConcurrent: numberFromEnv('BENCH_SSE_CONCURRENT', 50, { integer: true }),
  sseBursts: numberFromEnv('BENCH_SSE_BURSTS', 4, { integer: true }),
  /** 4: size of the document of the job the callbacks go to (MB). */
  sseDocMb: numberFromEnv('BENCH_SSE_DOC_MB', 3, { positive: true }),
  /** A job (or the upload) taking longer than this fails the benchmark. */
  jobTimeoutS: numberFromEnv('BENCH_JOB_TIMEOUT_S', 600, { positive: true }),
  serverUrl: process.env.BENCH_DATABASE_SERVER || 'postgres://postgres@127.0.0.1:5432/postgres',
  logLevel: process.env.BENCH_LOG_LEVEL || 'warn',
};
for (const p of SETTINGS.parts)
  if (!ALL_PARTS.includes(p))
    throw new Error(`BENCH_PARTS: unknown part "${p}" (known: ${ALL_PARTS.join(', ')})`);
if (SETTINGS.parts.length === 0) throw new Error('BENCH_PARTS names no part');
const want = (part) => SETTINGS.parts.includes(part);

/** The jobs service's settings as the platform will see them: its defaults, or the environment's values. */
function jobsServiceSettings() {
  const { jobsConfigSchema } = require(JOBS_CONFIG);
  const keys = [
    'DOCS_PER_CHUNK',
    'MAX_CHUNKS_PER_JOB',
    'MAX_DOCS_PER_JOB',
    'LOCAL_ENGINE_CONCURRENCY',
    'STEP_PARALLELISM',
    'MODEL_CONCURRENCY',
    'JOB_DEADLINE_SECONDS',
  ];
  const defaults = jobsConfigSchema.parse({});
  const fromEnv = {};
  for (const key of keys) if (process.env[key]) fromEnv[key] = process.env[key];
  const effective = jobsConfigSchema.parse(fromEnv);
  return Object.fromEntries(
    keys.map((key) => [key, { value: effective[key], default: defaults[key], fromEnv: key in fromEnv }]),
  );
}

const TARGETS = {
  /** A Kubernetes object (etcd value) must stay under 1 MB; taken as 1 MiB. */
  workflowBytes: 1024 * 1024,
  /** Pods one job's workflow may create. */
  pods: 200,
};

// ------------------------------------------------------------------------------------------ cleanup

/** What to undo, in the order it was done; `cleanup()` undoes it backwards, once. */
const undo = [];
let cleanupPromise;
/** The launcher, so that even a hard exit asks it to stop the platform. */
let launcherChild;

function onCleanup(name, fn) {
  undo.push({ name, fn });
}

function cleanup() {
  cleanupPromise ??= (async () => {
    while (undo.length > 0) {
      const { name, fn } = undo.pop();
      try {
        await fn();
      } catch (error) {
        console.error(`cleanup: could not ${name}: ${error.message}`);
      }
    }
  })();
  return cleanupPromise;
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping and cleaning up...`);
    cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}
process.on('exit', () => {
  // Last resort: the launcher stops the services it started when it gets SIGTERM (it outlives us to do so).
  if (launcherChild && launcherChild.exitCode === null && launcherChild.signalCode === null) {
    try {
      launcherChild.kill('SIGTERM');
    } catch {
      /* already gone */
    }
  }
});
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (error) => {
    console.error(`\nbench:jobs failed (${event}): ${error && error.stack ? error.stack : error}`);
    cleanup().finally(() => process.exit(1));
  });
}

// -------------------------------------------------------------------------------------------- helpers

function log(line = '') {
  console.log(line);
}

function commandOutput(command, args) {
  const out = spawnSync(command, args, { encoding: 'utf8' });
  return out.status === 0 ? `${out.stdout}${out.stderr}`.trim().split('\n')[0] : undefined;
}

function fmt(value, digits) {
  return value === undefined || Number.isNaN(value) || !Number.isFinite(value)
    ? 'n/a'
    : value.toFixed(digits);
}

const int = (n) => Math.round(n).toLocaleString('en');

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** p50, p99, max and mean of a list of milliseconds. */
function stats(values) {
  const sorted = Float64Array.from(values).sort();
  const sum = values.reduce((a, b) => a + b, 0);
  return {
    n: values.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    mean: values.length ? sum / values.length : NaN,
  };
}

function statsRow(label, s, digits = 2) {
  return [label, s.n, fmt(s.p50, digits), fmt(s.p99, digits), fmt(s.max, digits), fmt(s.mean, digits)];
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over `items`, at most `concurrency` at once; rejects on the first failure. */
async function pool(items, concurrency, fn) {
  const results = new Array(items.length);
  let next = 0;
  let failed;
  const lane = async () => {
    while (next < items.length && !failed && !interrupted) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (error) {
        failed ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  if (failed) throw failed;
  if (interrupted) throw new Error('interrupted');
  return results;
}

/** A promise that rejects after `ms` with `what` in the message. */
function timeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The benchmark user's `Authorization` header once signed up; every public API call sends it. */
let authorization;

async function api(method, url, body, headers = {}) {
  const response = await fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(authorization && url.includes('/api/v1/') ? { authorization } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  return { json, bytes: Buffer.byteLength(text) };
}

const CLK_TCK = Number(commandOutput('getconf', ['CLK_TCK'])) || 100;

/** CPU time of a process so far, in ms: its own, and its reaped children's (undefined once it is gone). */
function cpuOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (i) => (Number(fields[i]) * 1000) / CLK_TCK;
    return { self: ms(11) + ms(12), children: ms(13) + ms(14), ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** The processes below `root` (its children, theirs...) with their command lines. */
function descendants(root) {
  const parent = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cpu = cpuOf(Number(entry));
    if (cpu) parent.set(Number(entry), cpu.ppid);
  }
  const found = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift();
    for (const [child, ppid] of parent) {
      if (ppid !== pid) continue;
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${child}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        /* gone */
      }
      found.push({ pid: child, cmdline });
      queue.push(child);
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------- generated documents

/** mulberry32: a small deterministic PRNG, so every run uploads the same text. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SUBJECTS = [
  'The operations team',
  'The finance department',
  'Our largest customer',
  'The support group',
  'The regional office',
  'The data platform',
  'The hiring panel',
  'The security audit',
];
const VERBS = ['reported', 'reviewed', 'improved', 'delayed', 'approved', 'measured', 'reduced', 'expanded'];
const OBJECTS = [
  'the onboarding process',
  'revenue in the third quarter',
  'the cost of storage',
  'the release schedule',
  'the migration plan',
  'the travel budget',
  'the support backlog',
  'the annual forecast',
];

/** About `bytes` bytes of plain-text English (a title, then sentences in paragraphs), from `seed`. */
function documentText(seed, bytes) {
  const random = prng(seed);
  const pick = (list) => list[Math.floor(random() * list.length)];
  let text = `Report ${seed + 1}\n\n`;
  while (text.length < bytes) {
    const sentences = [];
    for (let i = 0; i < 4; i++)
      sentences.push(
        `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)} by ${Math.floor(random() * 90) + 2} percent.`,
      );
    text += `${sentences.join(' ')}\n\n`;
  }
  return Buffer.from(text);
}

// ------------------------------------------------------------------------------------ 1. submit latency

async function submitLatency() {
  const { FakeKubeApi } = require(FAKE_KUBE_API);
  const namespace = 'docflow-jobs';
  const token = randomBytes(16).toString('hex');
  const schemas = argoSchemasDirectory();
  log(`  Argo schemas       ${schemas} (DOCFLOW_ARGO_SCHEMAS to change)`);

  let t = performance.now();
  const validator = ArgoValidator.forDirectory(schemas);
  const sample = (jobId) => ({
    jobId,
    userId: 'bench-user',
    manifestKey: `users/bench-user/jobs/${jobId}/manifest.json`,
    bucket: 'docflow',
    chunkCount: SETTINGS.submitChunks,
    parallelism: 8,
    callbackSecret: randomBytes(32).toString('hex'),
    deadlineSeconds: 6 * 3600,
    concurrencyKey: 'bench-user',
  });
  // The validators compile on first use (each CRD is ~2.8 MB of YAML): timed apart, not in the figures.
  const issues = validator.validate('Workflow', buildWorkflow(sample('warm-up'), { namespace }));
  if (issues.length)
    throw new Error(`the sample Workflow is invalid: ${JSON.stringify(issues).slice(0, 500)}`);
  const compileMs = performance.now() - t;

  const fake = await new FakeKubeApi({ validator, token }).start();
  onCleanup('stop the fake Kubernetes API server', () => fake.stop());
  t = performance.now();
  const k8s = await loadKubernetesClient();
  const loadMs = performance.now() - t;
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: fake.url, skipTLSVerify: true }],
    users: [{ name: 'bench', token }],
    contexts: [{ name: 'bench', cluster: 'fake', user: 'bench' }],
    currentContext: 'bench',
  });
  const engine = new ArgoWorkflowEngine({ namespace, kubeConfig, validator });
  log(`  fake Kubernetes API at ${fake.url} (in the benchmark process; validates every Workflow it stores)`);

  const run = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  t = performance.now();
  await engine.submit(sample(`bench-${run}-first`));
  const firstMs = performance.now() - t;

  const submits = [];
  const validations = [];
  const builds = [];
  fake.requests.length = 0;
  process.stdout.write(`  ${SETTINGS.submits} submits, one after the other`);
  const started = performance.now();
  for (let i = 0; i < SETTINGS.submits; i++) {
    if (interrupted) throw new Error('interrupted');
    const request = sample(`bench-${run}-${i}`);
    t = performance.now();
    await engine.submit(request);
    submits.push(performance.now() - t);
  }
  const totalMs = performance.now() - started;
  const requestsPerSubmit = fake.requests.length / SETTINGS.submits;
  const stored = fake.listWorkflows(namespace).length;
  if (stored !== SETTINGS.submits + 1)
    throw new Error(`the fake API server holds ${stored} workflows, expected ${SETTINGS.submits + 1}`);
  const owned = fake
    .listWorkflows(namespace)
    .filter((w) =>
      fake
        .secret(namespace, w.metadata.name)
        ?.metadata.ownerReferences?.some((o) => o.uid === w.metadata.uid),
    ).length;
  if (owned !== stored) throw new Error(`only ${owned} of ${stored} Secrets are owned by their Workflow`);
  log(` -> ${fmt(totalMs / 1000, 2)} s, ${fmt((SETTINGS.submits * 1000) / totalMs, 0)} submits/s`);

  // What the driver does before any request, timed apart: building and validating the Workflow.
  for (let i = 0; i < SETTINGS.submits; i++) {
    const request = sample(`bench-${run}-v${i}`);
    t = performance.now();
    const workflow = buildWorkflow(request, { namespace });
    builds.push(performance.now() - t);
    t = performance.now();
    validator.assertValid('Workflow', workflow, 'the benchmark Workflow');
    validations.push(performance.now() - t);
  }
  // The same check the fake API server makes on its side (CRD schema + strict fields).
  const serverSide = [];
  for (let i = 0; i < Math.min(50, SETTINGS.submits); i++) {
    const workflow = buildWorkflow(sample(`bench-${run}-s${i}`), { namespace });
    t = performance.now();
    validator.checkCrd('Workflow', workflow);
    validator.checkStrict('Workflow', workflow);
    serverSide.push(performance.now() - t);
  }
  await fake.stop();
  return {
    compileMs,
    loadMs,
    firstMs,
    requestsPerSubmit,
    submit: stats(submits),
    validate: stats(validations),
    build: stats(builds),
    serverSide: stats(serverSide),
  };
}

// -------------------------------------------------------------------- 1b. POST /jobs -> Workflow created

/**
 * The whole path of a submission: the platform started as `npm start` does, but with the argo driver pointed at
 * the fake Kubernetes API (in this process, through a kubeconfig file). Each measured job is one `POST
 * /users/{id}/jobs` over one uploaded document, timed from just before the request to the moment the API server
 * receives the Workflow (created suspended), and to the resume patch (the steps may start).
 */
async function postToWorkflow(tmp) {
  const { FakeKubeApi } = require(FAKE_KUBE_API);
  const { writeFileSync } = require('node:fs');
  const namespace = 'docflow-bench';
  const token = randomBytes(16).toString('hex');
  const validator = ArgoValidator.forDirectory(argoSchemasDirectory());
  const fake = await new FakeKubeApi({ validator, token }).start();
  onCleanup('stop the fake Kubernetes API server (1b)', () => fake.stop());
  // Arrival times of the API requests, as the fake server receives them.
  const arrivals = [];
  const push = fake.requests.push.bind(fake.requests);
  fake.requests.push = (...items) => {
    for (const item of items) arrivals.push({ method: item.method, path: item.path, at: performance.now() });
    return push(...items);
  };
  const kubeconfig = path.join(tmp, 'kubeconfig.yaml');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      // Plain HTTP on loopback: the client insists on this flag for it.
      `clusters: [{ name: fake, cluster: { server: '${fake.url}', insecure-skip-tls-verify: true } }]`,
      `users: [{ name: bench, user: { token: '${token}' } }]`,
      `contexts: [{ name: bench, context: { cluster: fake, user: bench, namespace: ${namespace} } }]`,
      'current-context: bench',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  log('  starting the platform with WORKFLOW_ENGINE=argo, KUBECONFIG -> the fake API server');
  const platform = await startPlatform(tmp, {
    WORKFLOW_ENGINE: 'argo',
    ARGO_NAMESPACE: namespace,
    KUBECONFIG: kubeconfig,
  });
  const previous = authorization;
  try {
    const { json: session } = await api('POST', `${platform.api}/auth/signup`, {
      name: 'Bench Poster',
      email: `bench-post-${randomBytes(4).toString('hex')}@example.com`,
      password: randomBytes(12).toString('base64url'),
    });
    authorization = `Bearer ${session.jwt}`;
    const userId = session.user.id;
    // More jobs than the free plan's 20 a day.
    await raiseQuota(platform, userId, {
      maxDocuments: 10,
      maxStorageBytes: 10 * 1024 * 1024,
      maxJobsPerDay: SETTINGS.posts + 10,
    });
    const [doc] = (await platform.guard(uploadDocuments(platform, userId, 1, 2_000_000))).ids;
    const post = async () => {
      const from = arrivals.length;
      const t0 = performance.now();
      const { json: job } = await api('POST', `${platform.api}/users/${userId}/jobs`, { docIds: [doc.id] });
      const responded = performance.now();
      const name = workflowNameFor(job.id);
      const resumed = await waitFor(
        () => arrivals.slice(from).find((a) => a.method === 'PATCH' && a.path.endsWith(`/workflows/${name}`)),
        { timeoutMs: 30_000, intervalMs: 1, description: `the resume of Workflow ${name}` },
      );
      const created = arrivals
        .slice(from)
        .find((a) => a.method === 'POST' && a.path.endsWith(`/namespaces/${namespace}/workflows`));
      if (!created) throw new Error(`no Workflow was created for job ${job.id}`);
      return { response: responded - t0, created: created.at - t0, resumed: resumed.at - t0 };
    };
    for (let i = 0; i < 3; i++) await post(); // warm-up: first connections, first validation
    const samples = [];
    process.stdout.write(`  ${SETTINGS.posts} jobs posted one after the other`);
    const started = performance.now();
    for (let i = 0; i < SETTINGS.posts; i++) {
      if (interrupted) throw new Error('interrupted');
      samples.push(await platform.guard(post()));
    }
    const totalMs = performance.now() - started;
    log(` -> ${fmt(totalMs / 1000, 2)} s`);
    const stored = fake.listWorkflows(namespace).length;
    if (stored !== SETTINGS.posts + 3)
      throw new Error(`the fake API server holds ${stored} workflows, expected ${SETTINGS.posts + 3}`);
    return {
      response: stats(samples.map((s) => s.response)),
      created: stats(samples.map((s) => s.created)),
      resumed: stats(samples.map((s) => s.resumed)),
      perSecond: (SETTINGS.posts * 1000) / totalMs,
    };
  } finally {
    authorization = previous;
  }
}

// ----------------------------------------------------------------------------------- 3. workflow size

function workflowSize(settings) {
  const perChunk = settings.DOCS_PER_CHUNK.value;
  const namespace = 'docflow-jobs';
  const jobId = '3f2b8c1e-9d4a-4f6b-8e2a-1c5d7e9f0a1b'; // a job id is a UUID
  const userId = '7a1e5c3d-2b4f-4e6a-9c8d-0f1e2d3c4b5a';
  const request = (chunkCount) => ({
    jobId,
    userId,
    manifestKey: `users/${userId}/jobs/${jobId}/manifest.json`,
    bucket: 'docflow',
    chunkCount,
    parallelism: settings.STEP_PARALLELISM.value,
    callbackSecret: randomBytes(32).toString('hex'),
    deadlineSeconds: settings.JOB_DEADLINE_SECONDS.value,
    concurrencyKey: userId,
  });
  const validator = ArgoValidator.forDirectory();
  const measure = (docsPerChunk, docs = SETTINGS.sizeDocs) => {
    const chunks = Math.ceil(docs / docsPerChunk);
    const workflow = buildWorkflow(request(chunks), { namespace });
    const json = JSON.stringify(workflow);
    const issues = validator.validate('Workflow', workflow);
    return {
      docs,
      docsPerChunk,
      chunks,
      bytes: Buffer.byteLength(json),
      pods: chunks + 2, // a transform pod per chunk, plan, the exit handler
      valid: issues.length === 0,
    };
  };
  // As the jobs service sizes steps: at least DOCS_PER_CHUNK inputs, at most MAX_CHUNKS_PER_JOB steps.
  const serviceChunk = (docs) => Math.max(perChunk, Math.ceil(docs / settings.MAX_CHUNKS_PER_JOB.value));
  const current = measure(serviceChunk(SETTINGS.sizeDocs));
  // The smallest DOCS_PER_CHUNK whose workflow stays within the pod target.
  let needed = 1;
  while (Math.ceil(SETTINGS.sizeDocs / needed) + 2 > TARGETS.pods) needed++;
  const rows = [...new Set([1, perChunk, needed, serviceChunk(SETTINGS.sizeDocs)])]
    .sort((a, b) => a - b)
    .map((n) => measure(n));
  // What the jobs service accepts today (MAX_DOCS_PER_JOB), at the current chunk size.
  const maxDocs = settings.MAX_DOCS_PER_JOB.value;
  if (maxDocs < SETTINGS.sizeDocs) rows.push(measure(perChunk, maxDocs));

  // What the object grows to while it runs: Argo keeps a node per pod (and a retry node per transform task)
  // in status.nodes. An estimate from node entries shaped like Argo's, not a measurement.
  const wf = `docflow-job-${jobId}`;
  const node = (i, kind) => ({
    [`${wf}-${1000000000 + i}`]: {
      id: `${wf}-${1000000000 + i}`,
      name: `${wf}.transform(${i}:${i})${kind === 'Pod' ? '(0)' : ''}`,
      displayName: `transform(${i}:${i})${kind === 'Pod' ? '(0)' : ''}`,
      type: kind,
      templateName: 'transform',
      templateScope: 'namespaced/docflow-transform',
      phase: 'Succeeded',
      boundaryID: `${wf}-1234567890`,
      startedAt: '2026-01-01T00:00:00Z',
      finishedAt: '2026-01-01T00:01:00Z',
      progress: '1/1',
      resourcesDuration: { cpu: 60, memory: 60 },
      inputs: { parameters: [{ name: 'chunk', value: String(i) }] },
      ...(kind === 'Pod'
        ? { outputs: { exitCode: '0' }, hostNodeName: 'worker-node-a1b2c3' }
        : { children: [`${wf}-${2000000000 + i}`] }),
    },
  });
  const nodes = {};
  for (let i = 0; i < current.chunks; i++) Object.assign(nodes, node(i, 'Retry'), node(i, 'Pod'));
  const statusBytes = Buffer.byteLength(JSON.stringify({ nodes }));
  return { current, rows, needed, statusBytes, nodeCount: 2 * current.chunks, maxDocs };
}

// -------------------------------------------------------------------------------------- the platform

/** Ends, by pid, those of `processes` that still run the same command line: SIGTERM, then SIGKILL after 5 s. */
async function endLeftovers(processes) {
  const same = ({ pid, cmdline }) => {
    try {
      return (
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ') === cmdline &&
        processState(pid) !== 'Z'
      );
    } catch {
      return false;
    }
  };
  const left = processes.filter(same);
  if (left.length === 0) return;
  console.error(
    `cleanup: ending ${left.length} process(es) left by the platform: ${left.map((p) => p.pid).join(', ')}`,
  );
  for (const { pid } of left) {
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline && left.some(same)) await sleep(100);
  for (const p of left.filter(same)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** Starts the platform as e2e/platform.ts does: `node tools/local/start.js`, isolated. */
async function startPlatform(tmp, extraEnv = {}) {
  const ports = {
    http: await freePort(),
    private: await freePort(),
    s3: await freePort(),
    nats: await freePort(),
  };
  const databaseUrl = new URL(SETTINGS.serverUrl);
  databaseUrl.pathname = `/docflow_bench_${randomBytes(4).toString('hex')}`;
  const DATABASE_URL = databaseUrl.toString();
  await ensureDatabase(DATABASE_URL);
  onCleanup(`drop database ${databaseUrl.pathname.slice(1)}`, () => dropDatabase(DATABASE_URL));
  const home = path.join(tmp, 'home');
  // The platform admin, made at start-up: it raises the bench user's quota (the free plan allows 100 documents).
  const admin = { email: 'bench-admin@example.com', password: randomBytes(18).toString('base64url') };
  const launcher = spawn(process.execPath, [LAUNCHER], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL,
      // Nothing answers there, so the launcher starts its own nats-server on that port.
      NATS_URL: `nats://127.0.0.1:${ports.nats}`,
      HTTP_PORT: String(ports.http),
      PRIVATE_HTTP_PORT: String(ports.private),
      S3_PORT: String(ports.s3),
      DOCFLOW_HOME: home,
      STORAGE_WEBHOOK_TOKEN: randomBytes(24).toString('hex'),
      LOG_LEVEL: SETTINGS.logLevel,
      BOOTSTRAP_ADMIN_EMAIL: admin.email,
      BOOTSTRAP_ADMIN_PASSWORD: admin.password,
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // our cleanup stops it in order; a Ctrl-C in the terminal reaches only us
  });
  launcherChild = launcher;
  const lines = [];
  let running = false;
  let printed = 0;
  for (const stream of [launcher.stdout, launcher.stderr])
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 500) lines.shift();
      if (!running) return;
      if (++printed <= 40) log(`  [platform] ${line}`);
      else if (printed === 41) log('  [platform] ... (further output suppressed)');
    });
  const exited = new Promise((resolve) => launcher.once('exit', (code, signal) => resolve(code ?? signal)));
  let exitCode;
  void exited.then((code) => (exitCode = code));
  onCleanup('stop the platform', async () => {
    running = false; // its shutdown messages are not results
    if (exitCode !== undefined) return;
    // The launcher stops its services, but a step that is still running can outlive the jobs service for a
    // few seconds (orphaned): what runs below the launcher now is ended here afterwards, by pid.
    const before = descendants(launcher.pid);
    launcher.kill('SIGINT');
    const timer = setTimeout(() => launcher.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
    await endLeftovers(before);
  });
  const crashed = exited.then((code) =>
    Promise.reject(new Error(`the platform exited (${code}):\n${lines.slice(-40).join('\n')}`)),
  );
  crashed.catch(() => undefined);
  const started = performance.now();
  await Promise.race([
    waitFor(() => lines.some((l) => l.startsWith('docflow is running')), {
      timeoutMs: 60_000,
      intervalMs: 100,
      description: `the platform to start; its output:\n${lines.join('\n')}`,
    }),
    crashed,
  ]);
  running = true;
  const startMs = performance.now() - started;
  const pids = { launcher: launcher.pid };
  for (const { pid, cmdline } of descendants(launcher.pid)) {
    for (const app of ['gateway', 'users-docs', 'jobs'])
      if (cmdline.includes(path.join('apps', app, 'dist', 'main.js'))) pids[app] = pid;
    if (cmdline.includes('nats-server')) pids['nats-server'] = pid;
  }
  for (const app of ['gateway', 'users-docs', 'jobs'])
    if (!pids[app]) throw new Error(`cannot find the ${app} process of the platform`);
  return {
    api: `http://127.0.0.1:${ports.http}/api/v1`,
    privateApi: `http://127.0.0.1:${ports.private}/api/private`,
    s3Endpoint: `http://127.0.0.1:${ports.s3}`,
    databaseUrl: DATABASE_URL,
    database: databaseUrl.pathname.slice(1),
    admin,
    pids,
    startMs,
    /** Rejects when the platform exits before `promise` settles. */
    guard: (promise) => Promise.race([promise, crashed]),
  };
}

/**
 * Quotas are enforced as in any deployment (the free plan: 100 documents, 1 GiB, 20 jobs a day): the bootstrap
 * admin raises the bench user's, with `PATCH /users/{user_id}/details/subscription` as billing would, to what the
 * run uploads and starts (docs/user-details.md#quotas).
 */
async function raiseQuota(platform, userId, quota) {
  const session = await waitFor(
    async () => {
      const response = await fetch(`${platform.api}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(platform.admin),
      });
      return response.status === 200 ? response.json() : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 200, description: 'the bootstrap admin to sign in' },
  );
  const admin = { authorization: `Bearer ${session.jwt}` };
  // The details exist once user-details has set the new user up.
  await waitFor(
    () => api('GET', `${platform.api}/users/${userId}/details`, undefined, admin).catch(() => undefined),
    { timeoutMs: 15_000, intervalMs: 100, description: "the bench user's details" },
  );
  await api('PATCH', `${platform.api}/users/${userId}/details/subscription`, { quota }, admin);
  log(
    `  quota of the bench user raised by the platform admin: ${int(quota.maxDocuments)} documents, ` +
      `${fmt(quota.maxStorageBytes / 1e6, 1)} MB, ${quota.maxJobsPerDay} jobs a day`,
  );
}

/** Creates `count` text documents and uploads them, `concurrency` at a time, until each is `uploaded`. */
async function uploadDocuments(platform, userId, count, firstSeed, bytesEach = SETTINGS.docBytes) {
  const put = [];
  const ready = [];
  const started = now();
  const ids = await pool(
    Array.from({ length: count }, (_, i) => i),
    SETTINGS.uploadConcurrency,
    async (i) => {
      const bytes = documentText(firstSeed + i, bytesEach);
      const t0 = now();
      const { json: created } = await api('POST', `${platform.api}/users/${userId}/docs`, {
        name: `report-${firstSeed + i}.txt`,
        contentType: 'text/plain',
        size: bytes.length,
      });
      const headers = Object.fromEntries(
        Object.entries(created.upload.headers).filter(([name]) => name.toLowerCase() !== 'content-length'),
      );
      const response = await fetch(created.upload.url, { method: 'PUT', headers, body: bytes });
      if (!response.ok)
        throw new Error(`upload answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
      const t1 = now();
      put.push(t1 - t0);
      await waitFor(
        async () => {
          const { json: doc } = await api('GET', `${platform.api}/users/${userId}/docs/${created.id}`);
          if (doc.status === 'rejected') throw new Error(`the upload was rejected: ${doc.statusReason}`);
          return doc.status === 'uploaded';
        },
        { timeoutMs: 30_000, intervalMs: 25, description: `document ${created.id} to become uploaded` },
      );
      ready.push(now() - t1);
      return { id: created.id, bytes: bytes.length };
    },
  );
  return { ids, ms: now() - started, put: stats(put), ready: stats(ready) };
}

/** Follows a job's Server-Sent Events; `waitFor(match)` resolves with the first matching event. */
function followEvents(url) {
  const controller = new AbortController();
  const events = [];
  const waiters = new Set();
  let ended = false;
  let endError;
  const dispatch = () => {
    for (const waiter of [...waiters]) {
      const found = waiter.match();
      if (found !== undefined) {
        waiters.delete(waiter);
        waiter.resolve(found);
      } else if (ended) {
        waiters.delete(waiter);
        waiter.reject(endError ?? new Error(`the event stream ended before ${waiter.description}`));
      }
    }
  };
  const done = (async () => {
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', ...(authorization ? { authorization } : {}) },
      signal: controller.signal,
    });
    if (response.status !== 200 || !(response.headers.get('content-type') || '').includes('event-stream'))
      throw new Error(`GET ${url} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = response.body.getReader();
    for (;;) {
      const { value, done: finished } = await reader.read();
      if (finished) break;
      const receivedAt = now();
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = {};
        for (const line of frame.split('\n')) {
          if (!line || line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          fields[line.slice(0, colon)] = line.slice(colon + 1).trim();
        }
        if (!fields.event) continue;
        events.push({
          seq: Number(fields.id),
          type: fields.event,
          data: JSON.parse(fields.data || '{}'),
          receivedAt,
        });
      }
      dispatch();
    }
  })()
    .catch((error) => {
      if (error.name !== 'AbortError') endError = error;
    })
    .finally(() => {
      ended = true;
      dispatch();
    });
  return {
    events,
    done,
    close: () => controller.abort(),
    get ended() {
      return ended;
    },
    /** Resolves with the first event that `predicate` accepts (from the history too). */
    waitFor(predicate, description, ms) {
      const promise = new Promise((resolve, reject) => {
        let from = 0;
        const waiter = {
          description,
          resolve,
          reject,
          match: () => {
            for (; from < events.length; from++) if (predicate(events[from])) return events[from];
            return undefined;
          },
        };
        waiters.add(waiter);
        dispatch();
      });
      return ms ? timeout(promise, ms, description) : promise;
    },
  };
}

const TERMINAL = new Set(['job_completed', 'job_failed', 'job_cancelled']);

/** CPU time of the platform's processes and the benchmark database's PostgreSQL backends, over a run. */
async function measurePlatformCpu(platform, pg) {
  const backends = async () =>
    (
      await pg.query(
        'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      )
    ).rows.map((row) => row.pid);
  const first = new Map();
  const last = new Map();
  const take = (pid) => {
    const cpu = cpuOf(pid);
    if (!cpu) return;
    if (!first.has(pid)) first.set(pid, cpu);
    last.set(pid, cpu);
  };
  let pgPids = new Set(await backends());
  const named = Object.values(platform.pids);
  for (const pid of [...named, ...pgPids]) take(pid);
  const self = process.cpuUsage();
  const started = now();
  // Backends may come and go with the services' pools: look for new ones every second.
  const timer = setInterval(() => {
    backends()
      .then((pids) => {
        for (const pid of pids) pgPids.add(pid);
        for (const pid of pgPids) take(pid);
      })
      .catch(() => undefined);
  }, 1000);
  return {
    async stop() {
      clearInterval(timer);
      for (const pid of await backends()) pgPids.add(pid);
      for (const pid of [...named, ...pgPids]) take(pid);
      const used = (pid, kind = 'self') =>
        first.has(pid) ? Math.max(0, last.get(pid)[kind] - first.get(pid)[kind]) : 0;
      const usage = process.cpuUsage(self);
      const result = { wallMs: now() - started, bench: (usage.user + usage.system) / 1000 };
      for (const [name, pid] of Object.entries(platform.pids)) result[name] = used(pid);
      // The steps are children of the jobs service: their CPU is in its reaped-children time.
      result.workers = used(platform.pids.jobs, 'children');
      result.postgres = [...pgPids].reduce((sum, pid) => sum + used(pid), 0);
      return result;
    },
  };
}

// --------------------------------------------------------------------------- 2. 1,000 documents locally

async function localJob(platform, pg, userId, docs) {
  const body = { docIds: docs.map((d) => d.id) };
  const cpu = await measurePlatformCpu(platform, pg);
  const t0 = now();
  const { json: job, bytes: postBytes } = await platform.guard(
    api('POST', `${platform.api}/users/${userId}/jobs`, body),
  );
  const postMs = now() - t0;
  const stream = followEvents(`${platform.api}/users/${userId}/jobs/${job.id}/events`);
  onCleanup('close the event stream', () => stream.close());
  const chunks = Number(
    (await pg.query('SELECT chunk_count FROM jobs.jobs WHERE id = $1', [job.id])).rows[0].chunk_count,
  );
  log(
    `  job ${job.id}: ${job.documents.length} inputs in ${chunks} chunks; ` +
      `POST answered in ${fmt(postMs, 0)} ms (${int(postBytes)} bytes); following its events`,
  );
  const progress = setInterval(() => {
    const done = stream.events.filter((e) => e.type === 'doc_completed' || e.type === 'doc_failed').length;
    log(
      `  ... ${fmt((now() - t0) / 1000, 0)} s: ${done} of ${docs.length} documents done, ${stream.events.length} events`,
    );
  }, 15_000);
  let final;
  try {
    final = await platform.guard(
      stream.waitFor((e) => TERMINAL.has(e.type), 'the job to finish', SETTINGS.jobTimeoutS * 1000),
    );
  } finally {
    clearInterval(progress);
  }
  const wallMs = final.receivedAt - t0;
  const usage = await cpu.stop();
  await stream.done;
  if (final.type !== 'job_completed')
    throw new Error(`the job ended with ${final.type}: ${JSON.stringify(final.data).slice(0, 500)}`);
  const firstEvent = stream.events.find((e) => e.type === 'job_started');
  const counts = {};
  for (const e of stream.events) counts[e.type] = (counts[e.type] || 0) + 1;

  // Every document completed: by the job's own record and by its events.
  const { json: finished } = await api('GET', `${platform.api}/users/${userId}/jobs/${job.id}`);
  const notCompleted = finished.documents.filter((d) => d.status !== 'completed');
  if (finished.status !== 'completed' || notCompleted.length)
    throw new Error(
      `the job is ${finished.status}; ${notCompleted.length} document(s) not completed, e.g. ` +
        JSON.stringify(notCompleted.slice(0, 3)),
    );
  const completedIds = new Set(
    stream.events.filter((e) => e.type === 'doc_completed').map((e) => e.data.inputId),
  );
  if (completedIds.size !== docs.length)
    throw new Error(`doc_completed arrived for ${completedIds.size} of ${docs.length} documents`);
  const stored = Number(
    (await pg.query('SELECT count(*) AS n FROM jobs.job_events WHERE job_id = $1', [job.id])).rows[0].n,
  );
  // Heartbeats repeat the last id; every other event has a new, higher one.
  const ids = stream.events.filter((e) => e.type !== 'heartbeat').map((e) => e.seq);
  const ordered = ids.every((id, i) => i === 0 || id > ids[i - 1]);

  // How old each step event was when it reached the client (the step's `at` to its arrival here).
  const ages = stream.events
    .filter((e) => e.data.inputId && e.data.at)
    .map((e) => e.receivedAt - Date.parse(e.data.at));

  // The steps' own durations, from every sidecar (written by the step; read straight from the S3 server).
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: platform.s3Endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const prefix = jobOutputPrefix(userId, job.id);
  const sidecars = await pool(finished.documents, 16, async (input) => {
    const object = await s3.send(
      new GetObjectCommand({ Bucket: 'docflow', Key: `${prefix}${input.inputId}.json` }),
    );
    return JSON.parse(await object.Body.transformToString());
  });
  s3.destroy();
  const sum = (key) => sidecars.reduce((acc, s) => acc + s.durationsMs[key], 0);
  // Each step's active time: its first to its last event (by the steps' own `at`).
  const spans = new Map();
  for (const e of stream.events) {
    if (e.data.chunk === undefined || !e.data.at) continue;
    const at = Date.parse(e.data.at);
    const span = spans.get(e.data.chunk) || { first: at, last: at };
    span.first = Math.min(span.first, at);
    span.last = Math.max(span.last, at);
    spans.set(e.data.chunk, span);
  }
  const stepActive = [...spans.values()].map((s) => s.last - s.first);
  return {
    jobId: job.id,
    chunks,
    postMs,
    postBytes,
    wallMs,
    startedMs: firstEvent ? firstEvent.receivedAt - t0 : NaN,
    counts,
    sseEvents: stream.events.length,
    stored,
    ordered,
    ages: stats(ages),
    durations: {
      extract: sum('extract'),
      transform: sum('transform'),
      load: sum('load'),
      total: sum('total'),
      transformEach: stats(sidecars.map((s) => s.durationsMs.transform)),
      totalEach: stats(sidecars.map((s) => s.durationsMs.total)),
    },
    steps: stats(stepActive),
    stepActiveSum: stepActive.reduce((a, b) => a + b, 0),
    tokens: sidecars.reduce((acc, s) => acc + (s.usage?.totalTokens ?? 0), 0),
    cpu: usage,
  };
}

// --------------------------------------------------------------------------------------- 4. SSE latency

/** The state letter of a process (R, S, T for stopped...), undefined once it is gone. */
function processState(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/**
 * The job must still be running while the synthetic callbacks arrive (a finished job's events are stored,
 * not published), for as long as the measurement takes, whatever the machine's speed. So the job runs over
 * one document of a few MB, and once its step is in `transform` the step's process is paused (SIGSTOP; the
 * local engine's steps are processes in their own group): the job stays `running`, and the paused step uses
 * no CPU while the latency is measured. Then it is resumed (SIGCONT) and the job completes normally. (A
 * model server that holds the step's call would do the same without a signal, but since steps get an
 * allow-listed environment the local platform cannot point them at one.)
 */
async function sseLatency(platform, pg, userId, docId) {
  const t0 = now();
  const { json: job } = await platform.guard(
    api('POST', `${platform.api}/users/${userId}/jobs`, { docIds: [docId] }),
  );
  const stream = followEvents(`${platform.api}/users/${userId}/jobs/${job.id}/events`);
  onCleanup('close the event stream', () => stream.close());
  const failedEarly = stream
    .waitFor((e) => TERMINAL.has(e.type) || e.type === 'doc_failed', 'the job to end')
    .then((e) =>
      Promise.reject(
        new Error(
          `the job ended before the measurement did: ${e.type} ${JSON.stringify(e.data).slice(0, 400)} ` +
            '(a larger BENCH_SSE_DOC_MB gives the step more to do)',
        ),
      ),
    );
  failedEarly.catch(() => undefined);
  await platform.guard(
    Promise.race([
      stream.waitFor(
        (e) => e.type === 'stage_started' && e.data.stage === 'transform',
        'stage_started transform',
        120_000,
      ),
      failedEarly,
    ]),
  );
  const step = await platform.guard(
    Promise.race([
      waitFor(() => descendants(platform.pids.jobs).find((p) => p.cmdline.includes(`run --job ${job.id}`)), {
        timeoutMs: 10_000,
        intervalMs: 20,
        description: `the step process of job ${job.id}`,
      }),
      failedEarly,
    ]),
  );
  process.kill(step.pid, 'SIGSTOP');
  let paused = true;
  const resume = () => {
    if (!paused) return;
    paused = false;
    try {
      process.kill(step.pid, 'SIGCONT');
    } catch {
      /* gone */
    }
  };
  onCleanup('resume the paused step', resume);
  await waitFor(() => processState(step.pid) === 'T', {
    timeoutMs: 5_000,
    intervalMs: 10,
    description: `step process ${step.pid} to stop`,
  });
  const readyMs = now() - t0;
  const { rows } = await pg.query('SELECT callback_secret, status FROM jobs.jobs WHERE id = $1', [job.id]);
  if (!rows[0]) throw new Error(`job ${job.id} is not in jobs.jobs`);
  const secret = rows[0].callback_secret;
  if (rows[0].status !== 'running')
    throw new Error(`job ${job.id} is ${rows[0].status} with its step paused, expected running`);
  const url = `${platform.privateApi}/webhooks/jobs/${job.id}/events`;
  let sequence = 0;
  const sent = new Set();

  /** Posts one signed stage_progress event; resolves with its POST time and its delivery time. */
  const send = async (label) => {
    const n = ++sequence;
    // A step's event ids start with the job id (`<job>:<chunk>:<input>:...`); these are unique per send.
    const id = `${job.id}:bench-sse:${label}:${n}`;
    sent.add(id);
    const sentAt = now();
    const event = {
      id,
      jobId: job.id,
      type: 'stage_progress',
      at: new Date(sentAt).toISOString(),
      chunk: 0,
      inputId: docId,
      docIds: [docId],
      stage: 'transform',
      progress: Math.min(90, Math.floor(n / 10)),
      // The send time, sub-millisecond: the event's own payload carries it to the client.
      message: `sent ${sentAt.toFixed(3)}`,
    };
    const body = JSON.stringify(event);
    const timestamp = Math.floor(Date.now() / 1000);
    const arrival = stream.waitFor((e) => e.data.id === id, `event ${id} on the stream`, 30_000);
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [CALLBACK_TIMESTAMP_HEADER]: String(timestamp),
        [CALLBACK_SIGNATURE_HEADER]: signCallback(secret, timestamp, body),
      },
      body,
    });
    const answer = await response.text();
    const postMs = now() - sentAt;
    if (response.status !== 200)
      throw new Error(`callback ${id} answered ${response.status}: ${answer.slice(0, 300)}`);
    const result = JSON.parse(answer);
    if (!result.accepted || result.duplicate) throw new Error(`callback ${id} was not taken: ${answer}`);
    const received = await arrival;
    const carried = Number(/^sent (\d+(?:\.\d+)?)$/.exec(received.data.message || '')?.[1]);
    if (!Number.isFinite(carried)) throw new Error(`event ${id} arrived without its send time`);
    return {
      postMs,
      sseMs: received.receivedAt - carried,
      beforeReply: received.receivedAt < sentAt + postMs,
    };
  };

  const measure = async () => {
    for (let i = 0; i < SETTINGS.sseWarmup; i++)
      await platform.guard(Promise.race([send('warm-up'), failedEarly]));
    const sequential = [];
    process.stdout.write(`  ${SETTINGS.sseEvents} callbacks one after the other`);
    let t = now();
    for (let i = 0; i < SETTINGS.sseEvents; i++) {
      if (interrupted) throw new Error('interrupted');
      sequential.push(await platform.guard(Promise.race([send('sequential'), failedEarly])));
    }
    log(` -> ${fmt((now() - t) / 1000, 2)} s`);
    const bursts = [];
    if (SETTINGS.sseConcurrent > 0 && SETTINGS.sseBursts > 0) {
      process.stdout.write(`  ${SETTINGS.sseBursts} bursts of ${SETTINGS.sseConcurrent} callbacks at once`);
      t = now();
      for (let b = 0; b < SETTINGS.sseBursts; b++) {
        const burst = Array.from({ length: SETTINGS.sseConcurrent }, () => send(`burst${b}`));
        bursts.push(...(await platform.guard(Promise.race([Promise.all(burst), failedEarly]))));
      }
      log(` -> ${fmt((now() - t) / 1000, 2)} s`);
    }
    return { sequential, bursts };
  };
  let measured;
  try {
    measured = await measure();
  } finally {
    resume(); // the step finishes either way
  }
  const resumedAt = now();
  const final = await platform.guard(
    stream.waitFor((e) => TERMINAL.has(e.type), 'the SSE job to finish', 120_000),
  );
  await stream.done;
  if (final.type !== 'job_completed')
    throw new Error(`the SSE job ended with ${final.type}: ${JSON.stringify(final.data).slice(0, 400)}`);
  const received = stream.events.filter((e) => sent.has(e.data.id));
  const distinct = new Set(received.map((e) => e.data.id));
  if (distinct.size !== sent.size || received.length !== sent.size)
    throw new Error(
      `${sent.size} callbacks sent, ${received.length} delivered (${distinct.size} distinct) on the stream`,
    );
  const { sequential, bursts } = measured;
  return {
    jobId: job.id,
    readyMs,
    resumedMs: final.receivedAt - resumedAt,
    sent: sent.size,
    sequentialSse: stats(sequential.map((r) => r.sseMs)),
    sequentialPost: stats(sequential.map((r) => r.postMs)),
    burstSse: stats(bursts.map((r) => r.sseMs)),
    burstPost: stats(bursts.map((r) => r.postMs)),
    beforeReply: sequential.filter((r) => r.beforeReply).length,
    events: stream.events.length,
  };
}

// ----------------------------------------------------------------------------------------------- main

async function main() {
  const started = Date.now();
  const cpus = os.cpus();
  log(
    'docflow jobs benchmark: argo submission latency, 1,000 documents on the local engine, 10,000-document workflow size, SSE latency',
  );
  log('');
  log('Machine');
  log(
    `  nproc              ${os.availableParallelism()} (${cpus[0] ? cpus[0].model.trim() : 'unknown CPU'})`,
  );
  log(`  memory             ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`);
  log(
    `  load average       ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (before starting)`,
  );
  log(`  node               ${process.version}`);
  log(`  command            npm run bench:jobs (node tools/bench/jobs.js)`);
  log(
    `  settings           parts ${SETTINGS.parts.join(', ')}; ${SETTINGS.submits} submits of ${SETTINGS.submitChunks} chunks; ` +
      `${SETTINGS.docs} documents of ~${SETTINGS.docBytes} bytes, uploaded ${SETTINGS.uploadConcurrency} at a time; ` +
      `workflow size for ${SETTINGS.sizeDocs} documents; SSE ${SETTINGS.sseEvents} sequential + ` +
      `${SETTINGS.sseBursts} x ${SETTINGS.sseConcurrent} concurrent callbacks; LOG_LEVEL ${SETTINGS.logLevel}`,
  );
  for (const file of [FAKE_KUBE_API, JOBS_CONFIG]) {
    try {
      readFileSync(file);
    } catch {
      throw new Error(
        `${path.relative(ROOT, file)} is missing: run npm run build first (npm run bench:jobs does)`,
      );
    }
  }
  const jobsSettings = jobsServiceSettings();
  log(
    `  jobs service       ${Object.entries(jobsSettings)
      .map(
        ([key, s]) => `${key} ${s.value}${s.fromEnv ? ` (from the environment; default ${s.default})` : ''}`,
      )
      .join(', ')}`,
  );
  log('');

  const results = {};

  // ---- 1. argo submission
  if (want('submit')) {
    log('1. Submission latency: ArgoWorkflowEngine.submit against the fake Kubernetes API server');
    results.submit = await submitLatency();
    log('');
  }

  // ---- 1b. POST -> Workflow created, through the platform on the argo driver
  if (want('post')) {
    log(
      '1b. Submission latency through the platform: POST /jobs -> Workflow created (argo driver, fake API server)',
    );
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'docflow-bench-post-'));
    onCleanup(`remove ${tmp}`, () => rmSync(tmp, { recursive: true, force: true }));
    results.post = await postToWorkflow(tmp);
    log('');
  }

  // ---- 3. workflow size (no platform needed)
  if (want('size')) {
    log(
      `3. The Workflow of a ${int(SETTINGS.sizeDocs)}-document job (buildWorkflow, as the argo driver submits it)`,
    );
    results.size = workflowSize(jobsSettings);
    log(
      `  ${results.size.current.chunks} chunks at DOCS_PER_CHUNK ${results.size.current.docsPerChunk}: ` +
        `${int(results.size.current.bytes)} bytes of JSON, ${results.size.current.pods} pods`,
    );
    log('');
  }

  // ---- 2 and 4. the platform
  if (want('local') || want('sse')) {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'docflow-bench-jobs-'));
    onCleanup(`remove ${tmp}`, () => rmSync(tmp, { recursive: true, force: true }));
    log(
      'Starting the platform (node tools/local/start.js: migrations, users-docs, jobs, identity, key-vault, user-details, gateway, S3, nats-server)',
    );
    const platform = await startPlatform(tmp);
    const pg = new Client({ connectionString: platform.databaseUrl });
    pg.on('error', (error) => console.error(`monitoring connection: ${error.message}`));
    await pg.connect();
    onCleanup('close the monitoring connection', () => pg.end());
    const pgVersion = (await pg.query('SHOW server_version')).rows[0].server_version;
    log(
      `  ready in ${fmt(platform.startMs / 1000, 1)} s at ${platform.api} (private ${platform.privateApi}, S3 ${platform.s3Endpoint})`,
    );
    log(
      `  postgresql ${pgVersion}, fresh database ${platform.database}; own nats-server; DOCFLOW_HOME in ${tmp}; ` +
        `LOG_LEVEL ${SETTINGS.logLevel}`,
    );
    const { json: session } = await api('POST', `${platform.api}/auth/signup`, {
      name: 'Bench User',
      email: `bench-${randomBytes(4).toString('hex')}@example.com`,
      password: randomBytes(12).toString('base64url'),
    });
    const user = session.user;
    // A personal access token, not the 15-minute access token: a long run outlives the latter.
    authorization = `Bearer ${session.jwt}`;
    const { json: pat } = await api('POST', `${platform.api}/auth/tokens`, {
      name: 'bench:jobs',
      scopes: ['documents:read', 'documents:write', 'jobs:read', 'jobs:write'],
    });
    authorization = `Bearer ${pat.token}`;
    await raiseQuota(platform, user.id, {
      maxDocuments: SETTINGS.docs + 10,
      maxStorageBytes: Math.ceil(SETTINGS.docs * SETTINGS.docBytes + SETTINGS.sseDocMb * 1e6 + 1e6),
      maxJobsPerDay: 100,
    });
    log('');

    let docs = [];
    if (want('local')) {
      log(`2. ${int(SETTINGS.docs)} small documents through the local engine, as one job`);
      process.stdout.write(
        `  creating and uploading ${SETTINGS.docs} documents, ${SETTINGS.uploadConcurrency} at a time`,
      );
      const upload = await platform.guard(uploadDocuments(platform, user.id, SETTINGS.docs, 0));
      docs = upload.ids;
      log(` -> ${fmt(upload.ms / 1000, 1)} s (${fmt((SETTINGS.docs * 1000) / upload.ms, 0)} documents/s)`);
      results.upload = upload;
      results.local = await localJob(platform, pg, user.id, docs);
      log(
        `  -> job_completed after ${fmt(results.local.wallMs / 1000, 1)} s ` +
          `(${fmt((SETTINGS.docs * 1000) / results.local.wallMs, 1)} documents/s)`,
      );
      log('');
    }

    if (want('sse')) {
      log("4. SSE delivery latency: signed callbacks to the private API -> the job's event stream");
      const big = (
        await platform.guard(uploadDocuments(platform, user.id, 1, 1_000_000, SETTINGS.sseDocMb * 1e6))
      ).ids[0];
      log(`  uploaded a ${fmt(big.bytes / 1e6, 1)} MB document for a job that runs for a while`);
      results.sse = await sseLatency(platform, pg, user.id, big.id);
      log(
        `  -> the step resumed and the job completed ${fmt(results.sse.resumedMs / 1000, 1)} s later; ` +
          `${results.sse.sent} callbacks delivered`,
      );
      log('');
    }
  }

  // ---- report
  const verdicts = [];
  const verdict = (ok, text) => {
    verdicts.push(ok);
    log(`  ${ok ? 'PASS' : 'FAIL'}  ${text}`);
  };
  const header = ['ms', 'n', 'p50', 'p99', 'max', 'mean'];

  if (results.submit) {
    const r = results.submit;
    log(
      `Results 1: argo submission (fake Kubernetes API on loopback, in this process; ${SETTINGS.submitChunks} chunks per job)`,
    );
    log(
      table(header, [
        statsRow('submit (validate, Workflow suspended, owned Secret, resume)', r.submit),
        statsRow('  of which: validate the Workflow (client side)', r.validate, 3),
        statsRow('  of which: buildWorkflow', r.build, 3),
        statsRow("  the API server's own check (CRD + strict fields)", r.serverSide, 3),
      ]),
    );
    log(
      `  ${fmt(r.requestsPerSubmit, 1)} API requests per submit (POST Workflow, POST Secret, PATCH Workflow). ` +
        `First use, not in the figures: @kubernetes/client-node import ${fmt(r.loadMs, 0)} ms, validators ` +
        `compiled ${fmt(r.compileMs, 0)} ms, first submit ${fmt(r.firstMs, 0)} ms.`,
    );
    log(
      '  The fake server answers at once; a real API server adds its own admission, etcd write and network ' +
        'round trips (three per submit).',
    );
    log('');
  }

  if (results.post) {
    const r = results.post;
    log(
      'Results 1b: POST /users/{id}/jobs -> Workflow (the platform on the argo driver, fake Kubernetes API on loopback)',
    );
    log(
      table(header, [
        statsRow('POST -> 202 response', r.response),
        statsRow('POST -> Workflow received by the API server (suspended)', r.created),
        statsRow('POST -> resume patch received (steps may start)', r.resumed),
      ]),
    );
    log(
      `  ${fmt(r.perSecond, 1)} jobs/s one after the other. Path: gateway (auth) -> jobs over NATS -> users-docs ` +
        '(documents) -> manifest to S3 -> PostgreSQL -> Workflow, Secret, resume.',
    );
    log('');
  }

  if (results.local) {
    const r = results.local;
    const u = results.upload;
    const n = SETTINGS.docs;
    const slots = Math.min(jobsSettings.LOCAL_ENGINE_CONCURRENCY.value, r.chunks);
    log(
      `Results 2: ${int(n)} documents of ~${SETTINGS.docBytes} bytes, one job (local engine, offline model)`,
    );
    log(
      table(
        ['what', 'value'],
        [
          [
            'upload: create + PUT + uploaded, all documents',
            `${fmt(u.ms / 1000, 1)} s (${fmt((n * 1000) / u.ms, 0)} docs/s)`,
          ],
          ['  per document: POST + PUT (p50 / p99 ms)', `${fmt(u.put.p50, 1)} / ${fmt(u.put.p99, 1)}`],
          [
            '  per document: PUT -> uploaded (p50 / p99 ms)',
            `${fmt(u.ready.p50, 1)} / ${fmt(u.ready.p99, 1)}`,
          ],
          ['POST /jobs latency', `${fmt(r.postMs, 0)} ms (response ${int(r.postBytes)} bytes)`],
          ['POST -> job_started on the stream', `${fmt(r.startedMs, 0)} ms`],
          ['wall time: POST -> job_completed', `${fmt(r.wallMs / 1000, 2)} s`],
          ['documents per second', fmt((n * 1000) / r.wallMs, 1)],
          [`chunks (steps, ${slots} at a time)`, r.chunks],
          [
            'sum of step durations: extract / transform / load',
            `${fmt(r.durations.extract / 1000, 2)} / ${fmt(r.durations.transform / 1000, 2)} / ${fmt(r.durations.load / 1000, 2)} s`,
          ],
          [
            'transform per input (p50 / p99 / max ms)',
            `${fmt(r.durations.transformEach.p50, 0)} / ${fmt(r.durations.transformEach.p99, 0)} / ${fmt(r.durations.transformEach.max, 0)}`,
          ],
          [
            'platform overhead per document: (wall - sum transform) / docs',
            `${fmt((r.wallMs - r.durations.transform) / n, 1)} ms`,
          ],
          [
            `transform share of the step slots: sum transform / (wall x ${slots})`,
            `${fmt((100 * r.durations.transform) / (r.wallMs * slots), 1)} %`,
          ],
          [
            'step active time, first -> last event (p50 / max ms)',
            `${fmt(r.steps.p50, 0)} / ${fmt(r.steps.max, 0)}`,
          ],
          [
            `steps active: sum of active times / (wall x ${slots})`,
            `${fmt((100 * r.stepActiveSum) / (r.wallMs * slots), 1)} %`,
          ],
          ['tokens (sum of the sidecars)', int(r.tokens)],
          [
            'SSE events received (not counting heartbeats)',
            `${int(r.sseEvents - (r.counts.heartbeat || 0))} (+ ${r.counts.heartbeat || 0} heartbeats); stored for the job: ${int(r.stored)}`,
          ],
          [
            'event age at the client: step `at` -> SSE (p50 / p99 / max ms)',
            `${fmt(r.ages.p50, 0)} / ${fmt(r.ages.p99, 0)} / ${fmt(r.ages.max, 0)}`,
          ],
        ],
      ),
    );
    log(
      `  events by type: ${Object.entries(r.counts)
        .map(([type, c]) => `${type} ${c}`)
        .join(', ')}; SSE ids increasing: ${r.ordered ? 'yes' : 'NO'}; every document completed: yes`,
    );
    const c = r.cpu;
    const groups = [
      ['jobs service', c.jobs],
      ['worker steps (children of jobs)', c.workers],
      ['gateway', c.gateway],
      ['users-docs', c['users-docs']],
      ['postgres backends', c.postgres],
      ['nats-server', c['nats-server']],
      ['launcher + S3 server', c.launcher],
      ['benchmark (SSE client)', c.bench],
    ];
    const total = groups.reduce((sum, [, ms]) => sum + (ms || 0), 0);
    log(`CPU during the job (POST -> job_completed, ${fmt(c.wallMs / 1000, 1)} s wall; /proc utime+stime)`);
    log(
      table(
        ['process', 'CPU s', 'ms/doc', `% of ${os.availableParallelism()} cores`],
        [
          ...groups.map(([name, ms]) => [
            name,
            fmt((ms || 0) / 1000, 2),
            fmt((ms || 0) / n, 1),
            fmt((100 * (ms || 0)) / (c.wallMs * os.availableParallelism()), 0),
          ]),
          [
            'total',
            fmt(total / 1000, 2),
            fmt(total / n, 1),
            fmt((100 * total) / (c.wallMs * os.availableParallelism()), 0),
          ],
        ],
      ),
    );
    log('');
  }

  if (results.size) {
    const r = results.size;
    log(`Results 3: the Workflow of a ${int(SETTINGS.sizeDocs)}-document job`);
    log(
      table(
        ['documents', 'DOCS_PER_CHUNK', 'chunks', 'Workflow JSON bytes', 'of 1 MiB', 'pods', 'valid'],
        r.rows.map((row) => [
          int(row.docs),
          `${row.docsPerChunk}${row.docsPerChunk === r.current.docsPerChunk ? ' (current)' : ''}`,
          row.chunks,
          int(row.bytes),
          `${fmt((100 * row.bytes) / TARGETS.workflowBytes, 2)} %`,
          row.pods,
          row.valid ? 'yes' : 'NO',
        ]),
      ),
    );
    if (r.maxDocs < SETTINGS.sizeDocs)
      log(
        `  The jobs service refuses more than ${int(r.maxDocs)} documents per job (MAX_DOCS_PER_JOB), so a ` +
          `${int(SETTINGS.sizeDocs)}-document job is not submitted today; its figures are for the Workflow the driver builds.`,
      );
    log(
      '  pods = a transform pod per chunk + plan + the exit handler, without retries (a transform retried ' +
        'after exit 75 or an Error adds a pod per attempt, up to 5).',
    );
    log(
      `  While it runs the object grows: Argo keeps a node per pod and a retry node per transform task in ` +
        `status.nodes; ${r.nodeCount} such nodes are roughly ${int(r.statusBytes)} bytes ` +
        `(${fmt((100 * r.statusBytes) / TARGETS.workflowBytes, 0)} % of 1 MiB; an estimate from Argo-shaped entries).`,
    );
    log('');
  }

  if (results.sse) {
    const r = results.sse;
    log(
      'Results 4: SSE delivery latency (signed stage_progress callback POSTed to the private API -> ' +
        'the event read from GET .../events)',
    );
    log(
      table(header, [
        statsRow(`sequential: callback -> event on the stream`, r.sequentialSse),
        statsRow(`sequential: callback POST answered`, r.sequentialPost),
        ...(r.burstSse.n
          ? [
              statsRow(`${SETTINGS.sseConcurrent} at once: callback -> event on the stream`, r.burstSse),
              statsRow(`${SETTINGS.sseConcurrent} at once: callback POST answered`, r.burstPost),
            ]
          : []),
      ]),
    );
    log(
      `  job ${r.jobId}: one ${SETTINGS.sseDocMb} MB document, its step paused in transform during the measurement ` +
        `(paused ${fmt(r.readyMs / 1000, 1)} s after the POST); ${r.sent} callbacks (${SETTINGS.sseWarmup} warm-up), ` +
        `each delivered exactly once; ${r.beforeReply} of ${r.sequentialSse.n} sequential events reached the ` +
        'client before the POST was answered (the jobs service answers once the event is committed and ' +
        'publishes it from its outbox right after).',
    );
    log('');
  }

  log(`Targets (${os.availableParallelism()}-core machine)`);
  if (results.size) {
    const r = results.size;
    verdict(
      r.current.bytes <= TARGETS.workflowBytes,
      `Workflow of ${int(SETTINGS.sizeDocs)} documents far under 1 MiB (etcd): ${int(r.current.bytes)} bytes, ` +
        `${fmt((100 * r.current.bytes) / TARGETS.workflowBytes, 2)} % (1/${fmt(TARGETS.workflowBytes / r.current.bytes, 0)})`,
    );
    verdict(
      r.current.pods <= TARGETS.pods,
      `pods of a ${int(SETTINGS.sizeDocs)}-document job <= ${TARGETS.pods}: ${r.current.pods} ` +
        `(${r.current.chunks} transform + plan + exit handler at DOCS_PER_CHUNK ${r.current.docsPerChunk})`,
    );
    if (r.current.pods > TARGETS.pods)
      log(
        `        DOCS_PER_CHUNK ${r.current.docsPerChunk} gives ${r.current.pods} pods; DOCS_PER_CHUNK >= ${r.needed} ` +
          `would give ${Math.ceil(SETTINGS.sizeDocs / r.needed) + 2} (not changed here: apps/jobs/src/config.ts).`,
      );
  } else {
    log('  n/a   Workflow size and pods: not run (BENCH_PARTS)');
  }
  log('  info  no targets are set for submission latency, documents/s or SSE latency: figures only');
  const missed = verdicts.filter((ok) => !ok).length;
  log('');
  log(missed === 0 ? 'All targets met.' : `${missed} target(s) missed (see FAIL above).`);
  log(
    `Note: the platform, PostgreSQL, nats-server, the worker steps and this benchmark share the machine's ` +
      `${os.availableParallelism()} cores; figures are for comparison on this machine, not capacity planning.`,
  );
  log(`Finished in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
}

main()
  .then(
    () => 0,
    (error) => {
      if (!interrupted) console.error(`\nbench:jobs failed: ${error && error.stack ? error.stack : error}`);
      return 1;
    },
  )
  .then(async (code) => {
    if (interrupted) return; // the signal handler cleans up and exits
    await cleanup();
    process.exit(code);
  });
