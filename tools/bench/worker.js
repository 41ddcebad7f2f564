#!/usr/bin/env node
// `npm run bench:worker`: runs the built worker step (`node apps/worker/dist/main.js run ...`) the way the
// local engine and the container run it, once per scenario, and prints throughput and the worker's peak
// resident memory against the targets:
//   - offline provider, crew summarize: N x 10 KB and N x 1 MB text documents (documents/s, MB/s, ms/doc);
//   - offline provider: one 100 MB text document, streamed in pieces (peak RSS <= 300 MB);
//   - provider openai against a local OpenAI-compatible server with 200 ms of latency per call, at model
//     concurrency 1, 8 and 32 (documents/s, calls in flight).
// Everything runs isolated (a local S3 server on a free port, a callback receiver that checks every
// signature, temporary directories) and is removed afterwards, also on failure and on Ctrl-C.
// See tools/bench/README.md.
'use strict';
// The AWS SDK's notice about Node 20 would otherwise be printed in the middle of the results.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { spawn, spawnSync } = require('node:child_process');
const { createServer } = require('node:http');
const { appendFileSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  UploadPartCommand,
} = require('@aws-sdk/client-s3');
const {
  CALLBACK_SIGNATURE_HEADER,
  CALLBACK_TIMESTAMP_HEADER,
  WorkerExitCode,
  verifyCallback,
} = require('@docflow/contracts');
const { LocalS3Server, freePort } = require('@docflow/local-platform');
const { ObjectStorage } = require('@docflow/storage');

const ROOT = path.resolve(__dirname, '../..');
const WORKER = path.join(ROOT, 'apps', 'worker', 'dist', 'main.js');
const OPENAI_SERVER = path.join(ROOT, 'libs', 'agents', 'dist', 'testing', 'openai-compatible-server.js');
const PIECE_CHARS = 1_000_000; // apps/worker/src/step/long-text.ts
const IN_MEMORY_TEXT_LIMIT = 8 * 1024 * 1024; // idem: larger text documents are streamed in pieces

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

const ALL_SCENARIOS = ['small', 'large', 'big', 'openai'];

const SETTINGS = {
  scenarios: listFromEnv('BENCH_SCENARIOS', ALL_SCENARIOS.join(',')),
  smallDocs: numberFromEnv('BENCH_SMALL_DOCS', 200, { integer: true, positive: true }),
  smallKb: numberFromEnv('BENCH_SMALL_KB', 10, { positive: true }),
  largeDocs: numberFromEnv('BENCH_LARGE_DOCS', 10, { integer: true, positive: true }),
  largeMb: numberFromEnv('BENCH_LARGE_MB', 1, { positive: true }),
  /** Model concurrency (manifest limits.modelConcurrency) of the offline scenarios. */
  offlineConcurrency: numberFromEnv('BENCH_OFFLINE_CONCURRENCY', 8, { integer: true, positive: true }),
  bigMb: numberFromEnv('BENCH_BIG_MB', 100, { positive: true }),
  openaiDocs: numberFromEnv('BENCH_OPENAI_DOCS', 64, { integer: true, positive: true }),
  concurrencies: listFromEnv('BENCH_CONCURRENCY', '1,8,32').map(Number),
  latencyMs: numberFromEnv('BENCH_LATENCY_MS', 200),
  openaiModel: process.env.BENCH_OPENAI_MODEL || 'gpt-4o-mini',
  chunkTokens: numberFromEnv('BENCH_CHUNK_TOKENS', 3000, { integer: true, positive: true }),
  /** A worker run taking longer than this is stopped and the benchmark fails. */
  runTimeoutS: numberFromEnv('BENCH_RUN_TIMEOUT_S', 1800, { positive: true }),
  /** Scenarios whose worker runs with --cpu-prof (a comma list, or "all"); a diagnostic, it costs time. */
  cpuProf: listFromEnv('BENCH_CPU_PROF', ''),
  /** Extra node flags for the worker (diagnostics, e.g. --trace-gc); they change the measured command. */
  // The heap cap the local engine and the WorkflowTemplate give every step (override to experiment).
  workerNodeFlags: (process.env.BENCH_WORKER_NODE_FLAGS ?? '--max-old-space-size=192')
    .split(/\s+/)
    .filter(Boolean),
  /** Appends every worker's full output to this file (kept; diagnostics). */
  workerOutput: process.env.BENCH_WORKER_OUTPUT || '',
  logLevel: process.env.BENCH_LOG_LEVEL || 'warn',
};
for (const s of SETTINGS.scenarios)
  if (!ALL_SCENARIOS.includes(s))
    throw new Error(`BENCH_SCENARIOS: unknown scenario "${s}" (known: ${ALL_SCENARIOS.join(', ')})`);
if (SETTINGS.scenarios.length === 0) throw new Error('BENCH_SCENARIOS names no scenario');
if (
  SETTINGS.concurrencies.length === 0 ||
  SETTINGS.concurrencies.some((c) => !Number.isInteger(c) || c < 1 || c > 256)
)
  throw new Error('BENCH_CONCURRENCY must be a comma list of integers in 1..256');
for (const s of SETTINGS.cpuProf)
  if (s !== 'all' && !ALL_SCENARIOS.includes(s)) throw new Error(`BENCH_CPU_PROF: unknown scenario "${s}"`);
const profiled = (scenario) => SETTINGS.cpuProf.includes('all') || SETTINGS.cpuProf.includes(scenario);

const TARGETS = {
  /** Peak resident memory of the worker on the 100 MB text document, in MB (10^6 bytes). */
  bigRssMb: 300,
  bigTargetMb: 100,
  /** Expected scaling (not product targets): docs/s at 8 >= 5x at 1, at 32 >= 3x at 8. */
  scaling: [
    [1, 8, 5],
    [8, 32, 3],
  ],
};
const SAMPLE_MS = 50;
const SECRET = `bench-callback-secret-${Math.random().toString(36).slice(2)}-0123456789`;
const BUCKET = 'docflow';
const USER_ID = 'bench-user';

// ------------------------------------------------------------------------------------------ cleanup

/** What to undo, in the order it was done; `cleanup()` undoes it backwards, once. */
const undo = [];
let cleanupPromise;
/** Every worker we spawned, so that even a hard exit does not leave one behind. */
const children = new Set();

function onCleanup(name, fn) {
  undo.push({ name, fn });
}

function cleanup() {
  cleanupPromise ??= (async () => {
    for (const child of children) stopChild(child);
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

function alive(child) {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGTERM (the worker's cancel), then SIGKILL if it is still there after 3 s. */
function stopChild(child) {
  if (!alive(child)) return;
  try {
    child.kill('SIGTERM');
  } catch {
    /* gone */
  }
  const timer = setTimeout(() => {
    if (alive(child)) child.kill('SIGKILL');
  }, 3_000);
  timer.unref();
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
  for (const child of children) {
    if (!alive(child)) continue;
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (error) => {
    console.error(`\nbench:worker failed (${event}): ${error && error.stack ? error.stack : error}`);
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

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const MiB = 1024 * 1024;
const mib = (bytes) => bytes / MiB;
const mb = (bytes) => bytes / 1e6;

const CLK_TCK = Number(commandOutput('getconf', ['CLK_TCK'])) || 100;

/** VmRSS and VmHWM (the kernel's peak) of a process in bytes, undefined once it is gone. */
function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    if (!rss) return undefined; // a zombie has no memory lines
    return { rss: Number(rss[1]) * 1024, hwm: hwm ? Number(hwm[1]) * 1024 : undefined };
  } catch {
    return undefined;
  }
}

/** User + system CPU time a process has used so far, in ms (undefined when it is gone). */
function cpuMsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK; // utime, stime
  } catch {
    return undefined;
  }
}

/** Samples a process's VmRSS, VmHWM and CPU time every SAMPLE_MS until `stop()`. */
function sampleProcess(pid, startedAt) {
  const result = { peakRss: 0, hwm: 0, cpuMs: undefined, samples: 0, timeline: [] };
  const take = () => {
    const memory = memoryOf(pid);
    if (!memory) return;
    const cpu = cpuMsOf(pid);
    result.samples++;
    result.peakRss = Math.max(result.peakRss, memory.rss);
    if (memory.hwm !== undefined) result.hwm = Math.max(result.hwm, memory.hwm);
    if (cpu !== undefined) result.cpuMs = cpu;
    result.rss = memory.rss;
    result.timeline.push([Date.now() - startedAt, memory.rss]);
  };
  take();
  const timer = setInterval(take, SAMPLE_MS);
  return {
    result,
    take,
    stop() {
      clearInterval(timer);
      take(); // usually too late (the process is gone); the last interval sample stands
      return result;
    },
  };
}

// ------------------------------------------------------------------------------------- generated prose

/** mulberry32: a small deterministic PRNG, so every run benchmarks the same text. */
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

/** Word lists of the generated prose (split at `|`). */
const WORDS = Object.fromEntries(
  Object.entries({
    subjects:
      'The operations team|Our largest customer|The finance department|Maria Lopez|' +
      'The new document pipeline|The board|The regional office in Lyon|The support group|' +
      'Most of the engineers|The quarterly review|The procurement committee|Daniel Okafor|' +
      'The data platform|The legal department|A small pilot group|The northern sales region|' +
      'The security audit|The hiring panel|Our partner in Singapore|The design team',
    verbs:
      'reported|expected|reviewed|improved|delayed|approved|measured|discussed|reduced|expanded|' +
      'questioned|documented|simplified|postponed|negotiated|tested|replaced|audited',
    objects:
      'the onboarding process|revenue in the third quarter|the cost of storage|' +
      'three new contracts|the release schedule|the migration plan|the travel budget|' +
      'the customer satisfaction survey|the incident response guide|the pricing model|' +
      'the backlog of support tickets|the energy contract|the training programme|' +
      'the warehouse layout|the annual forecast|the vendor agreements|the internal wiki|' +
      'the retention figures|the accessibility checklist|the shipping routes',
    clauses:
      'after the audit in March|because demand grew faster than planned|' +
      'while the migration was still running|before the end of the fiscal year|' +
      'despite a shortage of qualified staff|as the contract required|' +
      'once the new servers arrived|with help from two external consultants|' +
      'without any change to the budget|following complaints from several clients|' +
      'ahead of the product launch in October|in line with the policy',
    followUps:
      'This decision was recorded in the minutes.|Nobody objected to the proposal.|' +
      'The figures will be checked again next month.|A follow-up meeting is planned for Thursday.|' +
      'The details are listed in the appendix.|Several questions remain open.|' +
      'The committee asked for a written summary.|Progress will be reported every two weeks.',
    topics:
      'Revenue and costs|Customer support|Hiring and training|Infrastructure|' +
      'Security and compliance|Product roadmap|Partnerships|Facilities|Risks and mitigations|' +
      'Next steps',
  }).map(([name, list]) => [name, list.split('|')]),
);

/** Yields Markdown-flavoured English prose, paragraph by paragraph, deterministically from `seed`. */
function* prose(seed, title) {
  const random = prng(seed);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const number = () => Math.floor(random() * 90) + 2;
  const sentence = () => {
    const r = random();
    let s = `${pick(WORDS.subjects)} ${pick(WORDS.verbs)} ${pick(WORDS.objects)}`;
    if (r < 0.35) s += ` ${pick(WORDS.clauses)}`;
    else if (r < 0.55) s += ` by ${number()} percent compared with ${2015 + Math.floor(random() * 10)}`;
    else if (r < 0.7)
      s += `, and ${pick(WORDS.subjects).replace(/^(The|Our|Most|A) /, (w) => w.toLowerCase())} ${pick(WORDS.verbs)} ${pick(WORDS.objects)}`;
    else if (r < 0.8) s += ` for ${number()} days`;
    return `${s}.`;
  };
  yield `# ${title}\n\n`;
  let section = 0;
  for (let paragraph = 0; ; paragraph++) {
    if (paragraph % 6 === 0) yield `## ${++section}. ${pick(WORDS.topics)}\n\n`;
    const count = 3 + Math.floor(random() * 5);
    const sentences = [];
    for (let i = 0; i < count; i++) sentences.push(random() < 0.15 ? pick(WORDS.followUps) : sentence());
    yield `${sentences.join(' ')}\n\n`;
  }
}

/** About `bytes` bytes of prose (whole paragraphs, ASCII), as a Buffer. */
function document(seed, bytes, title) {
  const parts = [];
  let size = 0;
  for (const paragraph of prose(seed, title)) {
    if (size >= bytes) break;
    parts.push(paragraph);
    size += paragraph.length;
  }
  return Buffer.from(parts.join('').trimEnd() + '\n', 'utf8');
}

// --------------------------------------------------------------------------------- callback receiver

/** Checks every event's signature and path, counts events by type and per job, answers 204. */
async function startReceiver() {
  const receiver = {
    url: '',
    badSignatures: 0,
    badReasons: [],
    /** jobId -> { counts, firstAt, lastCompletedAt, completed: Set, failed: [] } */
    jobs: new Map(),
    onEvent: undefined,
  };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const check = verifyCallback(
        SECRET,
        req.headers[CALLBACK_TIMESTAMP_HEADER],
        req.headers[CALLBACK_SIGNATURE_HEADER],
        body,
      );
      const match = /^\/api\/private\/webhooks\/jobs\/([^/]+)\/events$/.exec(req.url || '');
      let event;
      try {
        event = JSON.parse(body);
      } catch {
        event = undefined;
      }
      if (!check.ok || !match || !event || decodeURIComponent(match[1]) !== event.jobId) {
        receiver.badSignatures++;
        if (receiver.badReasons.length < 5)
          receiver.badReasons.push(
            `${req.method} ${req.url}: ${check.ok ? 'bad path or body' : check.reason}`,
          );
        res.writeHead(401).end();
        return;
      }
      const now = Date.now();
      let job = receiver.jobs.get(event.jobId);
      if (!job) {
        job = {
          counts: {},
          firstAt: now,
          lastCompletedAt: undefined,
          completed: new Set(),
          failed: [],
          ids: new Set(),
          duplicates: 0,
        };
        receiver.jobs.set(event.jobId, job);
      }
      // Delivery is at least once: a repeated id is a retry (e.g. after the worker's 5 s callback timeout).
      if (job.ids.has(event.id)) {
        job.duplicates++;
        receiver.onEvent?.(event, true);
        res.writeHead(204).end();
        return;
      }
      job.ids.add(event.id);
      job.counts[event.type] = (job.counts[event.type] || 0) + 1;
      if (event.type === 'doc_completed') {
        job.completed.add(event.inputId);
        job.lastCompletedAt = now;
      }
      if (event.type === 'doc_failed') job.failed.push(`${event.inputId}: ${JSON.stringify(event.error)}`);
      receiver.onEvent?.(event);
      res.writeHead(204).end();
    });
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  receiver.url = `http://127.0.0.1:${port}/api/private`;
  receiver.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return receiver;
}

// ------------------------------------------------------------------------------------- jobs and runs

let jobSequence = 0;

function manifestFor(jobId, documents, { model, modelConcurrency, maxDocumentBytes }) {
  return {
    version: 1,
    jobId,
    userId: USER_ID,
    crew: 'summarize',
    params: {},
    strategy: 'individual',
    model,
    documents,
    chunks: [{ index: 0, inputs: documents.map((d) => ({ inputId: d.docId, docIds: [d.docId] })) }],
    outputPrefix: `users/${USER_ID}/jobs/${jobId}/outputs/`,
    limits: { maxDocumentBytes, chunkTokens: SETTINGS.chunkTokens, modelConcurrency },
  };
}

async function putManifest(storage, manifest) {
  const key = `users/${USER_ID}/jobs/${manifest.jobId}/manifest.json`;
  await storage.put(key, JSON.stringify(manifest), 'application/json');
  return `s3://${BUCKET}/${key}`;
}

/** Uploads `docs` ({ name, bytes }) under one prefix; returns the manifest's documents. */
async function putDocuments(storage, prefix, docs) {
  const documents = [];
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < docs.length; i = next++) {
      const d = docs[i];
      const key = `users/${USER_ID}/docs/${prefix}-${i}/${d.name}`;
      await storage.put(key, d.bytes, 'text/plain');
      documents[i] = {
        docId: `${prefix}-${i}`,
        name: d.name,
        contentType: 'text/plain',
        size: d.bytes.length,
        key,
      };
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  return documents;
}

/**
 * Uploads about `bytes` bytes of prose as one object with a multipart upload, 8 MiB per part, so that the
 * benchmark never holds more than a part (@aws-sdk/lib-storage is not installed; these are its steps).
 */
async function putBigDocument(storage, key, bytes, onPart) {
  const client = storage.client;
  const { UploadId } = await client.send(
    new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ContentType: 'text/plain' }),
  );
  const PART = 8 * MiB;
  const parts = [];
  let size = 0;
  let pending = [];
  let pendingSize = 0;
  const flush = async () => {
    const body = Buffer.from(pending.join(''), 'utf8');
    pending = [];
    pendingSize = 0;
    const PartNumber = parts.length + 1;
    const out = await client.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        PartNumber,
        Body: body,
        ContentLength: body.length,
      }),
    );
    parts.push({ PartNumber, ETag: out.ETag });
    size += body.length;
    onPart?.(size);
  };
  try {
    for (const paragraph of prose(100, 'A very long report')) {
      if (size + pendingSize >= bytes) break;
      pending.push(paragraph);
      pendingSize += paragraph.length;
      if (pendingSize >= PART) await flush();
      if (interrupted) throw new Error('interrupted');
    }
    if (pendingSize > 0) await flush();
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  } catch (error) {
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId }))
      .catch(() => undefined);
    throw error;
  }
  const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  if (head.ContentLength !== size)
    throw new Error(`the uploaded document is ${head.ContentLength} bytes, expected ${size}`);
  return size;
}

/** Keeps the last `limit` characters of a process's output. */
function outputTail(limit = 20_000) {
  let text = '';
  let dropped = 0;
  return {
    push(chunk) {
      text += chunk;
      if (text.length > limit) {
        dropped += text.length - limit;
        text = text.slice(-limit);
      }
    },
    toString() {
      return (dropped ? `... (${dropped} earlier characters not kept)\n` : '') + text;
    },
  };
}

/**
 * Runs the built worker on chunk 0 of a job, as worker.int-spec.ts does: same arguments and environment.
 * Timed from spawn to exit; its memory and CPU are sampled from /proc. Exit code 0 is required.
 */
async function runWorker(ctx, { label, jobId, manifestUri, expectedInputs, env = {}, scenario, onSpawn }) {
  const args = ['run', '--job', jobId, '--manifest', manifestUri, '--chunk', '0'];
  const workerEnv = {
    PATH: process.env.PATH,
    S3_ENDPOINT: ctx.s3Endpoint,
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
    DOCFLOW_CALLBACK_URL: ctx.receiver.url,
    DOCFLOW_CALLBACK_SECRET: SECRET,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    LOG_LEVEL: SETTINGS.logLevel,
    ...env,
  };
  // The diagnostic profile is the one difference from the engine's command (node refuses --cpu-prof in NODE_OPTIONS).
  let profileDir;
  const nodeFlags = [...SETTINGS.workerNodeFlags];
  if (profiled(scenario)) {
    profileDir = path.join(ctx.tmp, `cpu-profile-${label.replace(/[^a-z0-9]+/gi, '-')}`);
    mkdirSync(profileDir, { recursive: true });
    nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  }
  const output = outputTail();
  const benchCpu = process.cpuUsage();
  const startedAt = Date.now();
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [...nodeFlags, WORKER, ...args], {
    cwd: ROOT,
    env: workerEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const sampler = sampleProcess(child.pid, startedAt);
  onSpawn?.(sampler);
  const keep = SETTINGS.workerOutput
    ? (d) => appendFileSync(SETTINGS.workerOutput, `[${label} +${Date.now() - startedAt} ms] ${d}`)
    : () => undefined;
  if (SETTINGS.workerOutput)
    appendFileSync(
      SETTINGS.workerOutput,
      `=== ${label}: node ${[...nodeFlags, WORKER, ...args].join(' ')}\n`,
    );
  child.stdout.on('data', (d) => {
    output.push(String(d));
    keep(d);
  });
  child.stderr.on('data', (d) => {
    output.push(String(d));
    keep(d);
  });
  let timedOut = false;
  const timeout = setTimeout(() => {
    timedOut = true;
    stopChild(child);
  }, SETTINGS.runTimeoutS * 1000);
  const exit = await new Promise((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const benchUsage = process.cpuUsage(benchCpu);
  clearTimeout(timeout);
  children.delete(child);
  const memory = sampler.stop();
  if (interrupted) throw new Error('interrupted');
  const job = ctx.receiver.jobs.get(jobId) || { counts: {}, completed: new Set(), failed: [] };
  const problems = [];
  if (exit.error) problems.push(`could not start the worker: ${exit.error.message}`);
  if (timedOut) problems.push(`stopped after BENCH_RUN_TIMEOUT_S=${SETTINGS.runTimeoutS} s`);
  if (exit.code !== WorkerExitCode.OK)
    problems.push(
      `the worker exited with ${exit.code === null ? `signal ${exit.signal}` : `code ${exit.code}`}`,
    );
  if (job.failed.length) problems.push(`doc_failed events: ${job.failed.slice(0, 3).join('; ')}`);
  if (job.completed.size !== expectedInputs)
    problems.push(`${job.completed.size} doc_completed events for ${expectedInputs} inputs`);
  if (ctx.receiver.badSignatures > 0)
    problems.push(
      `${ctx.receiver.badSignatures} callback(s) with a bad signature: ${ctx.receiver.badReasons.join('; ')}`,
    );
  if (problems.length) {
    throw new Error(
      `${label}: ${problems.join('; ')}\n--- worker output ---\n${output.toString()}--- end ---`,
    );
  }
  return {
    wallMs,
    /** CPU time of the benchmark process meanwhile: the S3 server, the callback receiver, the model server. */
    benchCpuMs: (benchUsage.user + benchUsage.system) / 1000,
    exitCode: exit.code,
    memory,
    events: job.counts,
    /** Spawn to the first event received: process start, module loading, manifest read. */
    startupMs: job.firstAt - startedAt,
    /** First event to last doc_completed: the documents being processed. */
    activeMs: job.lastCompletedAt - job.firstAt,
    profileDir,
    output: output.toString(),
  };
}

/** Reads every sidecar of a job (checking there is one per input) and sums what they report. */
async function readSidecars(storage, manifest) {
  const prefix = manifest.outputPrefix;
  const keys = [];
  let token;
  do {
    const out = await storage.client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of out.Contents || []) keys.push(o.Key);
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  const sidecarKeys = keys.filter((k) => k.endsWith('.json'));
  const markdownKeys = keys.filter((k) => k.endsWith('.md'));
  const inputs = manifest.chunks[0].inputs.length;
  if (sidecarKeys.length !== inputs || markdownKeys.length !== inputs)
    throw new Error(`${sidecarKeys.length} sidecars and ${markdownKeys.length} outputs for ${inputs} inputs`);
  const sum = {
    calls: 0,
    inputTokens: 0,
    outputTokens: 0,
    outputBytes: 0,
    totalMs: [],
    extractMs: 0,
    transformMs: 0,
    loadMs: 0,
  };
  let first;
  for (const key of sidecarKeys) {
    const sidecar = JSON.parse((await storage.getBytes(key, 16 * MiB)).toString('utf8'));
    first ??= sidecar;
    sum.calls += sidecar.modelCalls;
    sum.inputTokens += sidecar.usage.inputTokens;
    sum.outputTokens += sidecar.usage.outputTokens;
    sum.outputBytes += sidecar.outputBytes;
    sum.totalMs.push(sidecar.durationsMs.total);
    sum.extractMs += sidecar.durationsMs.extract;
    sum.transformMs += sidecar.durationsMs.transform;
    sum.loadMs += sidecar.durationsMs.load;
  }
  sum.totalMs.sort((a, b) => a - b);
  sum.first = first;
  return sum;
}

// ------------------------------------------------------------------------------------ CPU profiles

/** Self time per function and per source group from the worker's .cpuprofile (BENCH_CPU_PROF). */
function summarizeProfile(dir) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return undefined;
  const profile = JSON.parse(readFileSync(path.join(dir, files[0]), 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) || 0) + (profile.timeDeltas[i] || 0));
  }
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const fns = new Map();
  const groups = new Map();
  const groupOf = (url, name) => {
    if (!url)
      return name === '(garbage collector)'
        ? 'garbage collector'
        : name === '(idle)'
          ? 'idle (waiting for I/O)'
          : `V8/native ${name}`;
    if (url.includes('js-tiktoken')) return 'js-tiktoken (tokenizer)';
    if (url.includes('libs/agents/dist/text/tokens'))
      return 'agents text/tokens (splitByTokens, countTokens)';
    if (url.includes('libs/agents/dist/text/summarize')) return 'agents text/summarize (offline model)';
    if (url.includes('libs/agents/dist/providers/offline')) return 'agents providers/offline';
    if (url.includes('libs/agents/dist/engine/prompt')) return 'agents engine/prompt';
    if (url.includes('libs/agents/dist')) return 'agents (other)';
    if (url.includes('apps/worker/dist/extract/text-chunks')) return 'worker extract/text-chunks (streaming)';
    if (url.includes('apps/worker/dist')) return 'worker (other)';
    if (url.includes('@langchain')) return 'langchain / langgraph';
    if (url.includes('@aws-sdk') || url.includes('@smithy')) return 'aws-sdk';
    if (url.startsWith('node:')) return 'node core';
    return 'other';
  };
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const where = url ? `${url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '')}:${lineNumber + 1}` : '';
    const key = `${name} ${where}`.trim();
    fns.set(key, (fns.get(key) || 0) + us);
    const group = groupOf(url, name);
    groups.set(group, (groups.get(group) || 0) + us);
  }
  const top = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => [k, fmt(us / 1e6, 1), `${fmt((100 * us) / totalUs, 1)} %`]);
  return { totalS: totalUs / 1e6, groups: top(groups, 12), functions: top(fns, 15) };
}

function printProfile(label, dir) {
  const summary = dir && summarizeProfile(dir);
  if (!summary) {
    log(`  (no CPU profile was written for ${label})`);
    return;
  }
  log(`CPU profile of the worker, ${label} (--cpu-prof, self time; ${fmt(summary.totalS, 1)} s sampled)`);
  log(table(['group', 's', 'share'], summary.groups));
  log('');
  log(table(['function', 's', 'share'], summary.functions));
  log('');
}

// ----------------------------------------------------------------------------------------- scenarios

async function offlineScenario(ctx, { key, label, count, bytesEach, title }) {
  const docs = [];
  for (let i = 0; i < count; i++)
    docs.push({ name: `${key}-${i}.md`, bytes: document(1000 + i, bytesEach, `${title} ${i + 1}`) });
  const totalBytes = docs.reduce((sum, d) => sum + d.bytes.length, 0);
  const jobId = `bench-${key}-${++jobSequence}-${Date.now()}`;
  const documents = await putDocuments(ctx.storage, jobId, docs);
  docs.length = 0;
  const manifest = manifestFor(jobId, documents, {
    model: { provider: 'offline', model: 'extractive' },
    modelConcurrency: SETTINGS.offlineConcurrency,
    maxDocumentBytes: Math.max(1024 * 1024, ...documents.map((d) => d.size)),
  });
  const manifestUri = await putManifest(ctx.storage, manifest);
  process.stdout.write(
    `  ${label}: ${count} documents, ${fmt(mb(totalBytes), 2)} MB in total: running the worker`,
  );
  const run = await runWorker(ctx, { label, jobId, manifestUri, expectedInputs: count, scenario: key });
  const sidecars = await readSidecars(ctx.storage, manifest);
  log(
    ` -> ${fmt(run.wallMs / 1000, 2)} s, ${fmt((count * 1000) / run.wallMs, 1)} docs/s, peak RSS ${fmt(mib(peakOf(run)), 0)} MiB`,
  );
  return { key, label, count, totalBytes, run, sidecars };
}

function peakOf(run) {
  return Math.max(run.memory.peakRss, run.memory.hwm || 0);
}

async function bigScenario(ctx) {
  const target = Math.round(SETTINGS.bigMb * 1e6);
  const jobId = `bench-big-${++jobSequence}-${Date.now()}`;
  const key = `users/${USER_ID}/docs/${jobId}/very-long-report.md`;
  const uploadStarted = Date.now();
  process.stdout.write(
    `  one ${SETTINGS.bigMb} MB document: generating and uploading (multipart, 8 MiB parts)`,
  );
  let lastTenth = 0;
  const size = await putBigDocument(ctx.storage, key, target, (done) => {
    const tenth = Math.floor((10 * done) / target);
    if (tenth > lastTenth) {
      lastTenth = tenth;
      process.stdout.write('.');
    }
  });
  log(` ${fmt(mb(size), 1)} MB in ${fmt((Date.now() - uploadStarted) / 1000, 1)} s`);
  if (size <= IN_MEMORY_TEXT_LIMIT)
    log(
      `  note: ${size} bytes is not over ${IN_MEMORY_TEXT_LIMIT}: the worker reads it whole instead of streaming it`,
    );
  const documents = [{ docId: 'big', name: 'very-long-report.md', contentType: 'text/plain', size, key }];
  const manifest = manifestFor(jobId, documents, {
    model: { provider: 'offline', model: 'extractive' },
    modelConcurrency: SETTINGS.offlineConcurrency,
    maxDocumentBytes: Math.max(size, 1024 * 1024),
  });
  const manifestUri = await putManifest(ctx.storage, manifest);
  log(
    `  running the worker (progress as its stage_progress events arrive; RSS sampled every ${SAMPLE_MS} ms)`,
  );
  const progressStarted = Date.now();
  let latest = () => undefined;
  ctx.receiver.onEvent = (event, duplicate) => {
    if (event.jobId !== jobId || event.type !== 'stage_progress') return;
    const rss = latest();
    log(
      `    ${fmt((Date.now() - progressStarted) / 1000, 1).padStart(6)} s  transform ${String(event.progress).padStart(3)} %` +
        (rss ? `  worker RSS ${fmt(mib(rss), 0)} MiB` : '') +
        (duplicate ? '  (the same event again: a retried delivery)' : ''),
    );
  };
  let run;
  try {
    run = await runWorker(ctx, {
      label: `${SETTINGS.bigMb} MB document`,
      jobId,
      manifestUri,
      expectedInputs: 1,
      scenario: 'big',
      onSpawn: (sampler) => (latest = () => sampler.result.rss),
    });
  } finally {
    ctx.receiver.onEvent = undefined;
  }
  const sidecars = await readSidecars(ctx.storage, manifest);
  log(
    `  -> ${fmt(run.wallMs / 1000, 1)} s, ${fmt(mb(size) / (run.wallMs / 1000), 2)} MB/s, peak RSS ${fmt(mib(peakOf(run)), 0)} MiB`,
  );
  await ctx.storage.delete(key); // frees the disk of the temporary S3 directory
  return { size, run, sidecars, pieces: Math.ceil(size / PIECE_CHARS) };
}

async function openaiScenario(ctx) {
  const { startOpenAiCompatibleServer } = require(OPENAI_SERVER);
  const server = await startOpenAiCompatibleServer({
    latencyMs: SETTINGS.latencyMs,
    models: [SETTINGS.openaiModel],
  });
  onCleanup('stop the OpenAI-compatible server', () => server.close());
  const docs = [];
  for (let i = 0; i < SETTINGS.openaiDocs; i++)
    docs.push({ name: `note-${i}.md`, bytes: document(5000 + i, 1200, `Team note ${i + 1}`) });
  const bytesEach = docs.reduce((sum, d) => sum + d.bytes.length, 0) / docs.length;
  const runs = [];
  for (const concurrency of SETTINGS.concurrencies) {
    if (interrupted) throw new Error('interrupted');
    server.reset(); // forgets the handler too
    // A short answer in the summarize crew's format; the server estimates the token usage.
    server.setHandler(() => ({
      content:
        '## Summary\n\nThe report covers revenue, support and hiring. Revenue grew and support tickets fell.\n\n' +
        '## Keywords\n\nrevenue, support, hiring',
    }));
    const jobId = `bench-openai-c${concurrency}-${++jobSequence}-${Date.now()}`;
    const documents = await putDocuments(ctx.storage, jobId, docs);
    const manifest = manifestFor(jobId, documents, {
      model: { provider: 'openai', model: SETTINGS.openaiModel },
      modelConcurrency: concurrency,
      maxDocumentBytes: 1024 * 1024,
    });
    const manifestUri = await putManifest(ctx.storage, manifest);
    process.stdout.write(
      `  concurrency ${concurrency}: ${docs.length} documents of ~${fmt(bytesEach / 1000, 1)} KB`,
    );
    const run = await runWorker(ctx, {
      label: `openai, concurrency ${concurrency}`,
      jobId,
      manifestUri,
      expectedInputs: docs.length,
      scenario: 'openai',
      env: {
        DOCFLOW_PROVIDER_BASE_URL: server.baseURL,
        DOCFLOW_PROVIDER_API_KEY: 'sk-bench-not-a-real-key',
      },
    });
    const sidecars = await readSidecars(ctx.storage, manifest);
    const stats = { ...server.stats };
    const errors = server.requests.filter((r) => r.path !== '/v1/chat/completions').length;
    log(
      ` -> ${fmt(run.wallMs / 1000, 2)} s, ${fmt((docs.length * 1000) / run.wallMs, 1)} docs/s ` +
        `(${fmt((docs.length * 1000) / run.activeMs, 1)} while active), ${stats.completions} calls, max in flight ${stats.maxInFlight}`,
    );
    runs.push({ concurrency, docs: docs.length, run, sidecars, stats, errors });
  }
  return { runs, bytesEach };
}

// ----------------------------------------------------------------------------------------------- main

async function main() {
  const started = Date.now();
  const cpus = os.cpus();
  log('docflow worker benchmark: the built worker step (apps/worker/dist/main.js), one process per scenario');
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
  log(`  command            npm run bench:worker (node tools/bench/worker.js)`);
  log(
    `  settings           scenarios ${SETTINGS.scenarios.join(', ')}; small ${SETTINGS.smallDocs} x ${SETTINGS.smallKb} KB, ` +
      `large ${SETTINGS.largeDocs} x ${SETTINGS.largeMb} MB, offline concurrency ${SETTINGS.offlineConcurrency}; ` +
      `big ${SETTINGS.bigMb} MB; openai ${SETTINGS.openaiDocs} docs at concurrency ${SETTINGS.concurrencies.join(', ')}, ` +
      `${SETTINGS.latencyMs} ms latency; chunkTokens ${SETTINGS.chunkTokens}; LOG_LEVEL ${SETTINGS.logLevel}` +
      (SETTINGS.cpuProf.length ? `; CPU profile: ${SETTINGS.cpuProf.join(', ')}` : '') +
      (SETTINGS.workerNodeFlags.length ? `; worker node flags: ${SETTINGS.workerNodeFlags.join(' ')}` : ''),
  );
  for (const file of [WORKER, OPENAI_SERVER]) {
    try {
      readFileSync(file);
    } catch {
      throw new Error(
        `${path.relative(ROOT, file)} is missing: run npm run build first (npm run bench:worker does)`,
      );
    }
  }

  // ---- isolated infrastructure
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'docflow-bench-worker-'));
  onCleanup(`remove ${tmp}`, () => rmSync(tmp, { recursive: true, force: true }));
  const s3 = new LocalS3Server({
    address: '127.0.0.1',
    port: 0,
    directory: path.join(tmp, 's3'),
    bucket: BUCKET,
  });
  const s3Endpoint = await s3.start();
  onCleanup('stop the S3 server', () => s3.stop());
  const storage = new ObjectStorage({
    bucket: BUCKET,
    region: 'us-east-1',
    endpoint: s3Endpoint,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
    presignCacheSize: 0,
  });
  onCleanup('close the S3 client', () => storage.destroy());
  const receiver = await startReceiver();
  onCleanup('stop the callback receiver', () => receiver.close());
  log(`  object store       local S3 server at ${s3Endpoint} (in the benchmark process, directory ${tmp})`);
  log(
    `  callbacks          receiver at ${receiver.url} (in the benchmark process; checks every HMAC signature)`,
  );
  log('');
  const ctx = { tmp, storage, receiver, s3Endpoint };
  const want = (s) => SETTINGS.scenarios.includes(s);

  const offline = [];
  if (want('small') || want('large')) {
    log(
      `Offline provider, crew summarize, strategy individual, one chunk, modelConcurrency ${SETTINGS.offlineConcurrency}`,
    );
    if (want('small'))
      offline.push(
        await offlineScenario(ctx, {
          key: 'small',
          label: `${SETTINGS.smallKb} KB documents`,
          count: SETTINGS.smallDocs,
          bytesEach: SETTINGS.smallKb * 1000,
          title: 'Weekly report',
        }),
      );
    if (want('large'))
      offline.push(
        await offlineScenario(ctx, {
          key: 'large',
          label: `${SETTINGS.largeMb} MB documents`,
          count: SETTINGS.largeDocs,
          bytesEach: SETTINGS.largeMb * 1e6,
          title: 'Annual report',
        }),
      );
    log('');
  }
  let big;
  if (want('big')) {
    log(
      `Offline provider, one ${SETTINGS.bigMb} MB text document (streamed in ${PIECE_CHARS.toLocaleString('en')}-character pieces)`,
    );
    big = await bigScenario(ctx);
    log('');
  }
  let openai;
  if (want('openai')) {
    log(
      `Provider openai (model ${SETTINGS.openaiModel}) against the local OpenAI-compatible server, ${SETTINGS.latencyMs} ms per call`,
    );
    openai = await openaiScenario(ctx);
    log('');
  }

  // ---- report
  const s = (ms) => fmt(ms / 1000, 2);
  const memCols = (run) => [fmt(mib(run.memory.peakRss), 0), fmt(mib(run.memory.hwm), 0)];
  if (offline.length) {
    log('Results: offline provider (wall = spawn to exit of the worker; MiB from /proc/<pid>/status)');
    log(
      table(
        [
          'documents',
          'count',
          'MB',
          'wall s',
          'startup s',
          'docs/s',
          'MB/s',
          'ms/doc',
          'input ms p50',
          'p95',
          'model calls',
          'tokens',
          'worker CPU s',
          'bench CPU s',
          'peak RSS MiB',
          'VmHWM MiB',
        ],
        offline.map(({ label, count, totalBytes, run, sidecars }) => [
          label,
          count,
          fmt(mb(totalBytes), 1),
          s(run.wallMs),
          s(run.startupMs),
          fmt((count * 1000) / run.wallMs, 1),
          fmt(mb(totalBytes) / (run.wallMs / 1000), 2),
          fmt(run.wallMs / count, 1),
          fmt(pct(sidecars.totalMs, 50), 0),
          fmt(pct(sidecars.totalMs, 95), 0),
          sidecars.calls,
          sidecars.inputTokens + sidecars.outputTokens,
          s(run.memory.cpuMs),
          s(run.benchCpuMs),
          ...memCols(run),
        ]),
      ),
    );
    log(
      '  ms/doc = wall / count; input ms = extract + transform + load of one input (sidecar durationsMs.total), ' +
        `with up to ${SETTINGS.offlineConcurrency} inputs in progress at once; worker CPU = its user+system time ` +
        '(/proc/<pid>/stat, last sample before exit); bench CPU = the benchmark process (S3 server, callback receiver).',
    );
    log('');
  }
  if (big) {
    const { run, sidecars, size } = big;
    const d = sidecars.first.durationsMs;
    log(`Results: one ${fmt(mb(size), 1)} MB text document (offline provider)`);
    log(
      table(
        [
          'MB',
          'wall s',
          'startup s',
          'MB/s',
          'pieces',
          'model calls',
          'extract s',
          'transform s',
          'load s',
          'worker CPU s',
          'bench CPU s',
          'peak RSS MiB',
          'VmHWM MiB',
        ],
        [
          [
            fmt(mb(size), 1),
            s(run.wallMs),
            s(run.startupMs),
            fmt(mb(size) / (run.wallMs / 1000), 2),
            big.pieces,
            sidecars.calls,
            s(d.extract),
            s(d.transform),
            s(d.load),
            s(run.memory.cpuMs),
            s(run.benchCpuMs),
            ...memCols(run),
          ],
        ],
      ),
    );
    log(
      '  transform = streaming the pieces from S3 + splitting each into chunks (tokenizer) + the offline model + the merge.',
    );
    const timeline = run.memory.timeline;
    if (timeline.length > 1) {
      const points = [];
      for (let i = 1; i <= 10; i++) {
        const at = (i / 10) * timeline[timeline.length - 1][0];
        const sample = timeline.find(([t]) => t >= at) || timeline[timeline.length - 1];
        points.push(`${fmt(sample[0] / 1000, 0)} s: ${fmt(mib(sample[1]), 0)}`);
      }
      log(`  worker RSS over time (MiB): ${points.join(', ')}`);
    }
    log('');
  }
  if (openai) {
    log(
      `Results: provider openai, ${SETTINGS.latencyMs} ms per call, ${openai.runs[0]?.docs} documents of ~${fmt(openai.bytesEach / 1000, 1)} KB ` +
        '(one model call each)',
    );
    log(
      table(
        [
          'concurrency',
          'wall s',
          'startup s',
          'docs/s',
          'active s',
          'docs/s active',
          'ideal docs/s',
          'model calls',
          'max in flight',
          'worker CPU s',
          'bench CPU s',
          'CPU ms/doc',
          'peak RSS MiB',
        ],
        openai.runs.map(({ concurrency, docs, run, stats }) => [
          concurrency,
          s(run.wallMs),
          s(run.startupMs),
          fmt((docs * 1000) / run.wallMs, 1),
          s(run.activeMs),
          fmt((docs * 1000) / run.activeMs, 1),
          SETTINGS.latencyMs > 0 ? fmt(concurrency / (SETTINGS.latencyMs / 1000), 1) : 'n/a',
          stats.completions,
          stats.maxInFlight,
          s(run.memory.cpuMs),
          s(run.benchCpuMs),
          fmt((run.memory.cpuMs + run.benchCpuMs) / docs, 1),
          fmt(mib(peakOf(run)), 0),
        ]),
      ),
    );
    log(
      '  docs/s = documents / wall (spawn to exit, including the worker start); active = first event to last ' +
        'doc_completed received; ideal = concurrency / latency; bench CPU = the benchmark process (S3 server, ' +
        'callback receiver, model server) during the run; CPU ms/doc = (worker + bench CPU) / documents.',
    );
    log('');
  }

  // ---- events
  const eventTotals = {};
  let duplicates = 0;
  for (const job of receiver.jobs.values()) {
    duplicates += job.duplicates;
    for (const [type, n] of Object.entries(job.counts)) eventTotals[type] = (eventTotals[type] || 0) + n;
  }
  log(
    `Callbacks (distinct event ids): ${Object.entries(eventTotals)
      .map(([type, n]) => `${type} ${n}`)
      .join(', ')}; repeated deliveries ${duplicates}; bad signatures ${receiver.badSignatures}`,
  );
  log('');

  // ---- CPU profiles (BENCH_CPU_PROF)
  for (const o of offline) if (o.run.profileDir) printProfile(o.label, o.run.profileDir);
  if (big?.run.profileDir) printProfile(`${SETTINGS.bigMb} MB document`, big.run.profileDir);
  for (const r of openai?.runs || [])
    if (r.run.profileDir) printProfile(`openai, concurrency ${r.concurrency}`, r.run.profileDir);

  // ---- targets
  const verdicts = [];
  const verdict = (ok, text) => {
    verdicts.push(ok);
    log(`  ${ok ? 'PASS' : 'FAIL'}  ${text}`);
  };
  log(`Targets (${os.availableParallelism()}-core machine)`);
  if (big) {
    const peak = peakOf(big.run);
    const at =
      SETTINGS.bigMb === TARGETS.bigTargetMb
        ? ''
        : ` (measured at ${SETTINGS.bigMb} MB, not ${TARGETS.bigTargetMb} MB: BENCH_BIG_MB)`;
    verdict(
      mb(peak) <= TARGETS.bigRssMb,
      `worker peak RSS <= ${TARGETS.bigRssMb} MB on a ${TARGETS.bigTargetMb} MB text document: ` +
        `${fmt(mb(peak), 0)} MB (${fmt(mib(peak), 0)} MiB)${at}`,
    );
  } else {
    log(
      `  n/a   worker peak RSS <= ${TARGETS.bigRssMb} MB on a ${TARGETS.bigTargetMb} MB text document: not run (BENCH_SCENARIOS)`,
    );
  }
  log('Expected scaling (not product targets; docs/s while active, i.e. without the worker start)');
  for (const [from, to, factor] of TARGETS.scaling) {
    const a = openai?.runs.find((r) => r.concurrency === from);
    const b = openai?.runs.find((r) => r.concurrency === to);
    if (!a || !b) {
      log(
        `  n/a   docs/s at concurrency ${to} >= ${factor}x at ${from}: not measured (BENCH_CONCURRENCY, BENCH_SCENARIOS)`,
      );
      continue;
    }
    const rate = (r) => r.docs / (r.run.activeMs / 1000);
    const wall = (r) => r.docs / (r.run.wallMs / 1000);
    verdict(
      rate(b) >= factor * rate(a),
      `docs/s at concurrency ${to} >= ${factor}x at ${from}: ${fmt(rate(b) / rate(a), 2)}x ` +
        `(${fmt(rate(a), 1)} -> ${fmt(rate(b), 1)} docs/s; spawn to exit: ${fmt(wall(b) / wall(a), 2)}x)`,
    );
  }
  const missed = verdicts.filter((ok) => !ok).length;
  log('');
  log(missed === 0 ? 'All targets met.' : `${missed} target(s) missed (see FAIL above).`);
  log(
    `Note: the S3 server and the callback receiver run in the benchmark process, on the same ${os.availableParallelism()} ` +
      'cores as the worker; figures are for comparison on this machine, not capacity planning.',
  );
  log(`Finished in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
}

function pct(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

main()
  .then(
    () => 0,
    (error) => {
      if (!interrupted) console.error(`\nbench:worker failed: ${error && error.stack ? error.stack : error}`);
      return 1;
    },
  )
  .then(async (code) => {
    if (interrupted) return; // the signal handler cleans up and exits
    await cleanup();
    process.exit(code);
  });
