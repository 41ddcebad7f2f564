#!/usr/bin/env node
// `npm run bench:api`: loads GET /api/v1/users/{id}/docs/{doc_id} through gateway -> NATS -> users-docs ->
// PostgreSQL with autocannon, then the same gateway with the users-docs handlers called in-process, and
// prints throughput, latency, the cost of the NATS hop and each service's resident memory against the
// targets. Everything runs isolated (its own database, nats-server, S3 server and ports) and is removed
// afterwards, also on failure and on Ctrl-C. See tools/bench/README.md.
'use strict';
const { spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { mkdtempSync, readFileSync, readdirSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const { Client } = require('pg');
const {
  LocalS3Server,
  freePort,
  runToCompletion,
  spawnService,
  startNatsServer,
  stopService,
  waitFor,
} = require('@docflow/local-platform');
const { dropDatabase, ensureDatabase } = require('@docflow/database');

const ROOT = path.resolve(__dirname, '../..');

// ---------------------------------------------------------------------------------------------- settings

function numberFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

const SETTINGS = {
  /** Seconds of each measured run. */
  duration: numberFromEnv('BENCH_DURATION', 10),
  /** Seconds of unmeasured load before each measured run. */
  warmup: numberFromEnv('BENCH_WARMUP', 2),
  /** Seconds of unmeasured load at the highest connection count before a path's first run (JIT, pools). */
  pathWarmup: numberFromEnv('BENCH_PATH_WARMUP', 5),
  connections: (process.env.BENCH_CONNECTIONS || '1,16,64')
    .split(',')
    .map((c) => Number(c.trim()))
    .filter((c) => Number.isInteger(c) && c > 0),
  /** How long the services sit idle before their idle memory is read. */
  settleMs: numberFromEnv('BENCH_SETTLE_MS', 2_000),
  serverUrl: process.env.BENCH_DATABASE_SERVER || 'postgres://postgres@127.0.0.1:5432/postgres',
  logLevel: process.env.BENCH_LOG_LEVEL || 'warn',
};
if (SETTINGS.connections.length === 0) throw new Error('BENCH_CONNECTIONS names no connection count');
if (SETTINGS.duration <= 0) throw new Error('BENCH_DURATION must be positive');

const TARGETS = { p99Ms: 20, p99AtConnections: 64, hopRatio: 1.5, idleRssMiB: 150 };
const RSS_SAMPLE_MS = 100;

// ------------------------------------------------------------------------------------------ cleanup

/** What to undo, in the order it was done; `cleanup()` undoes it backwards, once. */
const undo = [];
let cleanupPromise;
const activeLoads = new Set();
/** Every child we spawned, so that even a hard exit does not leave one behind. */
const children = new Set();

function onCleanup(name, fn) {
  undo.push({ name, fn });
}

function cleanup() {
  cleanupPromise ??= (async () => {
    for (const load of activeLoads) load.stop();
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
/** Processes not spawned through spawnTracked (nats-server) that a hard exit must not leave behind. */
const strays = new Set();
process.on('exit', () => {
  // Last resort (e.g. an uncaught exception): the services run in their own process groups.
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const pid of strays) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (error) => {
    console.error(`\nbench:api failed (${event}): ${error && error.stack ? error.stack : error}`);
    cleanup().finally(() => process.exit(1));
  });
}

// -------------------------------------------------------------------------------------------- helpers

function commandOutput(command, args) {
  const out = spawnSync(command, args, { encoding: 'utf8' });
  return out.status === 0 ? `${out.stdout}${out.stderr}`.trim().split('\n')[0] : undefined;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function log(line = '') {
  console.log(line);
}

/** Prints a service's lines prefixed with its name; after `limit` lines only counts them. */
function serviceOutput(limit = 40) {
  const counts = new Map();
  const output = (name, line) => {
    const n = (counts.get(name) || 0) + 1;
    counts.set(name, n);
    if (n <= limit) console.log(`  [${name}] ${line}`);
    else if (n === limit + 1) console.log(`  [${name}] ... (further output suppressed)`);
  };
  output.suppressed = () =>
    [...counts].filter(([, n]) => n > limit).map(([name, n]) => `${name}: ${n - limit} lines`);
  return output;
}

function spawnTracked(options) {
  const service = spawnService(options);
  children.add(service.child);
  service.exited.then(() => children.delete(service.child));
  onCleanup(`stop ${options.name}`, () => stopService(service));
  return service;
}

/** Rejects when `service` exits before `promise` settles. */
function unlessExits(services, promise) {
  const crashed = Promise.race(
    services.map((s) =>
      s.exited.then((code) => Promise.reject(new Error(`${s.name} exited (code ${code})`))),
    ),
  );
  crashed.catch(() => undefined);
  return Promise.race([promise, crashed]);
}

async function waitReady(baseUrl, services) {
  const url = `${baseUrl}/health/ready`;
  await unlessExits(
    services,
    waitFor(
      async () => {
        const response = await fetch(url);
        const text = await response.text();
        // Thrown so that a timeout reports the last answer.
        if (response.status !== 200) throw new Error(`last answer ${response.status} ${text.slice(0, 300)}`);
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 100, description: url },
    ),
  );
}

async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  return json;
}

/** VmRSS of a process in MiB, or undefined when it is gone. */
function rssMiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of the process whose command line contains `needle` (e.g. our nats-server's store dir). */
function findPid(needle) {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(needle)) return Number(entry);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

/** Samples the RSS of `pids` every RSS_SAMPLE_MS; `stop()` returns the peak of each. */
function sampleRss(pids) {
  const peak = {};
  const take = () => {
    for (const [name, pid] of Object.entries(pids)) {
      const value = rssMiB(pid);
      if (value !== undefined) peak[name] = Math.max(peak[name] ?? 0, value);
    }
  };
  take();
  const timer = setInterval(take, RSS_SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      take();
      return peak;
    },
  };
}

const CLK_TCK = Number(commandOutput('getconf', ['CLK_TCK'])) || 100;

/** User + system CPU time a process has used so far, in ms (undefined when it is gone). */
function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK; // utime, stime
  } catch {
    return undefined;
  }
}

/**
 * CPU time used during a measured run by each named process, by the PostgreSQL backends serving the
 * benchmark database and by this process (autocannon). `stop()` returns ms per group.
 */
async function measureCpu(pids, pg) {
  const backends = async () =>
    (
      await pg.query(
        'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      )
    ).rows.map((row) => row.pid);
  const before = new Map();
  for (const pid of [...Object.values(pids), ...(await backends())]) before.set(pid, cpuMs(pid) ?? 0);
  const self = process.cpuUsage();
  const started = process.hrtime.bigint();
  return {
    async stop() {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      const usage = process.cpuUsage(self);
      const used = (pid) => Math.max(0, (cpuMs(pid) ?? before.get(pid) ?? 0) - (before.get(pid) ?? 0));
      const result = { wallMs, autocannon: (usage.user + usage.system) / 1000, postgres: 0 };
      for (const [name, pid] of Object.entries(pids)) result[name] = used(pid);
      const pgPids = new Set([...before.keys()].filter((pid) => !Object.values(pids).includes(pid)));
      for (const pid of await backends()) pgPids.add(pid);
      for (const pid of pgPids) result.postgres += used(pid);
      return result;
    },
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/**
 * One autocannon run. Besides autocannon's own result (whose latency histogram has 1 ms resolution),
 * every 2xx response time is kept to compute sub-millisecond p50/p99: at low latencies whole
 * milliseconds are too coarse for the NATS/in-process ratio.
 */
function load(url, connections, seconds) {
  return new Promise((resolve, reject) => {
    const times = [];
    const instance = autocannon(
      { url, connections, duration: seconds, pipelining: 1, timeout: 10 },
      (err, result) => {
        activeLoads.delete(instance);
        if (err) return reject(err);
        const sorted = Float64Array.from(times).sort();
        resolve({
          connections,
          rps: result.requests.average,
          total: result.requests.total,
          p50: percentile(sorted, 50),
          p99: percentile(sorted, 99),
          max: sorted.length ? sorted[sorted.length - 1] : NaN,
          acP50: result.latency.p50,
          acP99: result.latency.p99,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          statusCodeStats: result.statusCodeStats,
        });
      },
    );
    activeLoads.add(instance);
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) times.push(responseTime);
    });
  });
}

function checkClean(label, run) {
  if (run.non2xx > 0 || run.errors > 0 || run.timeouts > 0) {
    throw new Error(
      `${label} at ${run.connections} connections: ${run.non2xx} non-2xx, ${run.errors} errors, ` +
        `${run.timeouts} timeouts (status codes: ${JSON.stringify(run.statusCodeStats)})`,
    );
  }
}

/** Warm-up then a measured run per connection count; `pids` have their RSS sampled during each measured run. */
async function benchPath(label, url, pids, services, pg) {
  const runs = [];
  if (SETTINGS.pathWarmup > 0) {
    const connections = Math.max(...SETTINGS.connections);
    log(
      `  ${label}: warming up the path: ${connections} connections for ${SETTINGS.pathWarmup} s (not measured)`,
    );
    checkClean(`${label} warm-up`, await unlessExits(services, load(url, connections, SETTINGS.pathWarmup)));
  }
  for (const connections of SETTINGS.connections) {
    if (interrupted) throw new Error('interrupted');
    process.stdout.write(`  ${label}: ${connections} connection(s): warm-up ${SETTINGS.warmup} s`);
    if (SETTINGS.warmup > 0) {
      const warm = await unlessExits(services, load(url, connections, SETTINGS.warmup));
      checkClean(`${label} warm-up`, warm);
    }
    process.stdout.write(`, measuring ${SETTINGS.duration} s`);
    const sampler = sampleRss(pids);
    const cpu = await measureCpu(pids, pg);
    let run;
    try {
      run = await unlessExits(services, load(url, connections, SETTINGS.duration));
    } finally {
      run = Object.assign(run || {}, { peakRss: sampler.stop(), cpu: await cpu.stop() });
    }
    if (interrupted) throw new Error('interrupted');
    checkClean(label, run);
    log(` -> ${fmt(run.rps, 0)} req/s, p50 ${fmt(run.p50, 2)} ms, p99 ${fmt(run.p99, 2)} ms`);
    runs.push(run);
  }
  return runs;
}

function fmt(value, digits) {
  return value === undefined || Number.isNaN(value) ? 'n/a' : value.toFixed(digits);
}

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

// ----------------------------------------------------------------------------------------------- main

async function main() {
  const started = Date.now();
  const cpus = os.cpus();
  log('docflow API benchmark: GET /api/v1/users/{id}/docs/{doc_id}');
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
  log(`  autocannon         ${require('autocannon/package.json').version}`);
  log(
    `  settings           connections ${SETTINGS.connections.join(', ')}; ${SETTINGS.warmup} s warm-up + ` +
      `${SETTINGS.duration} s measured per run, ${SETTINGS.pathWarmup} s path warm-up ` +
      '(BENCH_CONNECTIONS, BENCH_WARMUP, BENCH_DURATION, BENCH_PATH_WARMUP)',
  );

  // ---- isolated infrastructure
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'docflow-bench-'));
  onCleanup(`remove ${tmp}`, () => rmSync(tmp, { recursive: true, force: true }));

  const databaseUrl = new URL(SETTINGS.serverUrl);
  databaseUrl.pathname = `/docflow_bench_${randomBytes(4).toString('hex')}`;
  const DATABASE_URL = databaseUrl.toString();
  await ensureDatabase(DATABASE_URL);
  onCleanup(`drop database ${databaseUrl.pathname.slice(1)}`, () => dropDatabase(DATABASE_URL));
  const pg = new Client({ connectionString: DATABASE_URL });
  pg.on('error', (error) => console.error(`monitoring connection: ${error.message}`));
  await pg.connect();
  onCleanup('close the monitoring connection', () => pg.end());
  const pgVersion = (await pg.query('SHOW server_version')).rows[0].server_version;
  log(
    `  postgresql         ${pgVersion} at ${databaseUrl.host} (fresh database ${databaseUrl.pathname.slice(1)})`,
  );

  const natsDir = path.join(tmp, 'nats');
  const nats = await startNatsServer(natsDir, '127.0.0.1', await freePort());
  const natsPid = findPid(natsDir);
  if (natsPid) strays.add(natsPid);
  onCleanup('stop nats-server', async () => {
    await nats.stop();
    strays.delete(natsPid);
  });
  const natsBin =
    process.env.NATS_SERVER_BIN ||
    commandOutput('sh', ['-c', 'command -v nats-server']) ||
    '/usr/sbin/nats-server';
  log(
    `  nats-server        ${commandOutput(natsBin, ['--version']) || 'unknown version'} at ${nats.url} (own instance)`,
  );

  const httpPort = await freePort();
  const privatePort = await freePort();
  const webhookToken = randomBytes(24).toString('base64url');
  const bucket = 'docflow';
  const s3 = new LocalS3Server({
    address: '127.0.0.1',
    port: 0,
    directory: path.join(tmp, 's3'),
    bucket,
    webhook: { url: `http://127.0.0.1:${privatePort}/api/private/webhooks/docs/status`, token: webhookToken },
    onDeliveryFailure: (error) => log(`  [s3] a storage event could not be delivered: ${error.message}`),
  });
  const s3Endpoint = await s3.start();
  onCleanup('stop the S3 server', () => s3.stop());
  log(`  object store       local S3 server at ${s3Endpoint} (in the benchmark process; idle during load)`);

  // The same environment platform.ts gives the services, with our own database, NATS, S3 and ports.
  const serviceEnv = {
    DATABASE_URL,
    NATS_URL: nats.url,
    S3_BUCKET: bucket,
    S3_ENDPOINT: s3Endpoint,
    S3_PUBLIC_ENDPOINT: s3Endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(httpPort),
    PRIVATE_HTTP_HOST: '127.0.0.1',
    PRIVATE_HTTP_PORT: String(privatePort),
    STORAGE_WEBHOOK_TOKEN: webhookToken,
    MASTER_KEY: randomBytes(32).toString('base64'),
    MASTER_KEY_ID: 'bench',
    LOG_LEVEL: SETTINGS.logLevel,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED:
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true',
  };
  log(
    `  LOG_LEVEL          ${SETTINGS.logLevel} for every service, so per-request access logs (info) are not written`,
  );
  log('');

  const output = serviceOutput();
  const script = (app, entry) => path.join(ROOT, 'apps', app, 'dist', entry);

  // ---- NATS path: the real services, started as the launcher starts them
  log('Starting the platform (migrations, users-docs, jobs, key-vault, user-details, gateway)');
  for (const app of ['users-docs', 'jobs', 'key-vault', 'user-details']) {
    await runToCompletion({ name: `${app} migrate`, script: script(app, 'migrate.js'), env: serviceEnv });
  }
  const usersDocs = spawnTracked({
    name: 'users-docs',
    script: script('users-docs', 'main.js'),
    env: serviceEnv,
    output,
  });
  const gateway = spawnTracked({
    name: 'gateway',
    script: script('gateway', 'main.js'),
    env: serviceEnv,
    output,
  });
  // Not on the measured path, but the gateway is ready only when every service answers.
  const jobs = spawnTracked({ name: 'jobs', script: script('jobs', 'main.js'), env: serviceEnv, output });
  const others = ['key-vault', 'user-details'].map((name) =>
    spawnTracked({ name, script: script(name, 'main.js'), env: serviceEnv, output }),
  );
  const natsServices = [usersDocs, jobs, ...others, gateway];
  const natsBase = `http://127.0.0.1:${httpPort}`;
  await waitReady(natsBase, natsServices);
  log(`  ready at ${natsBase} (gateway pid ${gateway.child.pid}, users-docs pid ${usersDocs.child.pid})`);

  // ---- seed one uploaded document
  const content = Buffer.from('docflow benchmark document\n'.repeat(40));
  const user = await api('POST', `${natsBase}/api/v1/users`, {
    name: 'Bench User',
    email: `bench-${randomBytes(4).toString('hex')}@example.com`,
  });
  const created = await api('POST', `${natsBase}/api/v1/users/${user.id}/docs`, {
    name: 'bench.txt',
    contentType: 'text/plain',
    size: content.length,
  });
  const uploadHeaders = Object.fromEntries(
    Object.entries(created.upload.headers).filter(([name]) => name.toLowerCase() !== 'content-length'),
  );
  const put = await fetch(created.upload.url, { method: 'PUT', headers: uploadHeaders, body: content });
  if (!put.ok) throw new Error(`upload answered ${put.status}: ${(await put.text()).slice(0, 300)}`);
  const docPath = `/api/v1/users/${user.id}/docs/${created.id}`;
  const seeded = await unlessExits(
    natsServices,
    waitFor(
      async () => {
        const doc = await api('GET', `${natsBase}${docPath}`);
        if (doc.status === 'rejected') throw new Error(`the upload was rejected: ${doc.statusReason}`);
        return doc.status === 'uploaded' ? doc : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100, description: 'the document to become uploaded' },
    ),
  );
  if (!seeded.download || !seeded.download.url)
    throw new Error('the uploaded document carries no download URL');
  const sampleBody = await (await fetch(`${natsBase}${docPath}`)).arrayBuffer();
  log(`  seeded user ${user.id}, document ${created.id} (uploaded, ${content.length} bytes)`);
  log(
    `  response: 200, ${sampleBody.byteLength} bytes of JSON (with a presigned download URL signed per request)`,
  );
  log('');

  // ---- idle memory
  await sleep(SETTINGS.settleMs);
  const idle = { gateway: rssMiB(gateway.child.pid), 'users-docs': rssMiB(usersDocs.child.pid) };
  if (natsPid) idle['nats-server'] = rssMiB(natsPid);

  // ---- NATS path load
  log('Load: NATS path (gateway -> NATS -> users-docs -> PostgreSQL)');
  const natsPids = { gateway: gateway.child.pid, 'users-docs': usersDocs.child.pid };
  if (natsPid) natsPids['nats-server'] = natsPid;
  const natsRuns = await benchPath('nats', `${natsBase}${docPath}`, natsPids, natsServices, pg);
  const afterLoad = { gateway: rssMiB(gateway.child.pid), 'users-docs': rssMiB(usersDocs.child.pid) };
  log('');

  // The NATS services stop before the in-process run so that they do not compete for the two cores.
  log(`  jobs service (idle, not on this path): ${fmt(rssMiB(jobs.child.pid), 1)} MiB resident`);
  await stopService(gateway);
  await stopService(usersDocs);
  await stopService(jobs);

  // ---- in-process path
  log('Starting the in-process gateway (users-docs handlers called directly, no NATS), in its own process');
  const inprocPort = await freePort();
  const inprocEnv = {
    ...serviceEnv,
    HTTP_PORT: String(inprocPort),
    PRIVATE_HTTP_PORT: String(await freePort()),
  };
  const inproc = spawnTracked({
    name: 'in-process',
    script: path.join(__dirname, 'inprocess-server.js'),
    env: inprocEnv,
    output,
  });
  const inprocBase = `http://127.0.0.1:${inprocPort}`;
  await waitReady(inprocBase, [inproc]);
  const inprocDoc = await api('GET', `${inprocBase}${docPath}`);
  if (inprocDoc.id !== created.id || inprocDoc.status !== 'uploaded' || !inprocDoc.download) {
    throw new Error(
      `the in-process gateway answered differently: ${JSON.stringify(inprocDoc).slice(0, 300)}`,
    );
  }
  await sleep(SETTINGS.settleMs);
  idle['in-process'] = rssMiB(inproc.child.pid);
  log('Load: in-process path (gateway -> users-docs handlers -> PostgreSQL, one process)');
  const inprocRuns = await benchPath(
    'in-process',
    `${inprocBase}${docPath}`,
    { 'in-process': inproc.child.pid },
    [inproc],
    pg,
  );
  await stopService(inproc);
  log('');

  // ---- report
  const r = (v) => fmt(v, 2);
  log(
    'Results (latency in ms, measured by the client: sub-ms from every 2xx response time autocannon reports)',
  );
  log(
    table(
      [
        'connections',
        'NATS req/s',
        'p50',
        'p99',
        'in-proc req/s',
        'p50',
        'p99',
        'p50 NATS/in-proc',
        'req/s in-proc/NATS',
      ],
      natsRuns.map((n, i) => {
        const p = inprocRuns[i];
        return [
          n.connections,
          fmt(n.rps, 0),
          r(n.p50),
          r(n.p99),
          fmt(p.rps, 0),
          r(p.p50),
          r(p.p99),
          r(n.p50 / p.p50),
          r(p.rps / n.rps),
        ];
      }),
    ),
  );
  log('');
  log("autocannon's own latency percentiles (1 ms resolution), for reference");
  log(
    table(
      [
        'connections',
        'NATS p50',
        'NATS p99',
        'in-proc p50',
        'in-proc p99',
        'NATS requests',
        'in-proc requests',
      ],
      natsRuns.map((n, i) => {
        const p = inprocRuns[i];
        return [n.connections, n.acP50, n.acP99, p.acP50, p.acP99, n.total, p.total];
      }),
    ),
  );
  log('');

  const peakAt = (runs, name) => runs.map((run) => fmt(run.peakRss[name], 1));
  log(
    `Resident memory (VmRSS, MiB; idle after seeding and ${SETTINGS.settleMs} ms settle, peak sampled every ${RSS_SAMPLE_MS} ms)`,
  );
  const memRows = [
    ['gateway', fmt(idle.gateway, 1), ...peakAt(natsRuns, 'gateway'), fmt(afterLoad.gateway, 1)],
    [
      'users-docs',
      fmt(idle['users-docs'], 1),
      ...peakAt(natsRuns, 'users-docs'),
      fmt(afterLoad['users-docs'], 1),
    ],
  ];
  if (natsPid)
    memRows.push(['nats-server (info)', fmt(idle['nats-server'], 1), ...peakAt(natsRuns, 'nats-server'), '']);
  memRows.push([
    'in-process server (info)',
    fmt(idle['in-process'], 1),
    ...peakAt(inprocRuns, 'in-process'),
    '',
  ]);
  log(table(['process', 'idle', ...SETTINGS.connections.map((c) => `peak @${c}`), 'after load'], memRows));
  log('');

  const cpuRuns = [...natsRuns.map((run) => ['NATS', run]), ...inprocRuns.map((run) => ['in-proc', run])];
  const perRequest = (run, name) => {
    const requests = run.total;
    return run.cpu[name] === undefined || !requests ? '' : fmt((run.cpu[name] * 1000) / requests, 0);
  };
  const cpuGroups = [
    ['gateway', 'gateway'],
    ['users-docs', 'users-docs'],
    ['in-process server', 'in-process'],
    ['nats-server', 'nats-server'],
    ['postgres backends', 'postgres'],
    ['autocannon (this process)', 'autocannon'],
  ];
  const totalCpu = (run) => cpuGroups.reduce((sum, [, key]) => sum + (run.cpu[key] ?? 0), 0);
  log('CPU time per request (µs; /proc utime+stime over each measured run / requests served)');
  log(
    table(
      ['process', ...cpuRuns.map(([path, run]) => `${path} @${run.connections}`)],
      [
        ...cpuGroups.map(([label, key]) => [label, ...cpuRuns.map(([, run]) => perRequest(run, key))]),
        ['total', ...cpuRuns.map(([, run]) => fmt((totalCpu(run) * 1000) / run.total, 0))],
        [
          `these processes, % of ${os.availableParallelism()} cores`,
          ...cpuRuns.map(([, run]) =>
            fmt((100 * totalCpu(run)) / (run.cpu.wallMs * os.availableParallelism()), 0),
          ),
        ],
      ],
    ),
  );
  log('');

  // ---- targets
  const verdicts = [];
  const verdict = (ok, text) => {
    verdicts.push(ok);
    log(`  ${ok ? 'PASS' : 'FAIL'}  ${text}`);
  };
  log(`Targets (${os.availableParallelism()}-core machine)`);
  const at64 = natsRuns.find((run) => run.connections === TARGETS.p99AtConnections);
  if (at64) {
    verdict(
      at64.p99 <= TARGETS.p99Ms,
      `p99 <= ${TARGETS.p99Ms} ms at ${TARGETS.p99AtConnections} connections (NATS path): ${r(at64.p99)} ms`,
    );
  } else {
    log(
      `  n/a   p99 <= ${TARGETS.p99Ms} ms at ${TARGETS.p99AtConnections} connections: not measured (BENCH_CONNECTIONS)`,
    );
  }
  natsRuns.forEach((n, i) => {
    const p = inprocRuns[i];
    const latencyRatio = n.p50 / p.p50;
    const throughputRatio = p.rps / n.rps;
    verdict(
      latencyRatio <= TARGETS.hopRatio && throughputRatio <= TARGETS.hopRatio,
      `NATS hop <= ${TARGETS.hopRatio}x in-process at ${n.connections} connection(s): ` +
        `p50 ${r(latencyRatio)}x, throughput ${r(throughputRatio)}x`,
    );
  });
  for (const name of ['gateway', 'users-docs']) {
    verdict(
      idle[name] <= TARGETS.idleRssMiB,
      `${name} idle RSS <= ${TARGETS.idleRssMiB} MiB: ${fmt(idle[name], 1)} MiB`,
    );
  }
  const missed = verdicts.filter((ok) => !ok).length;
  log('');
  log(missed === 0 ? 'All targets met.' : `${missed} target(s) missed (see FAIL above).`);

  const suppressed = output.suppressed();
  if (suppressed.length) log(`Service output suppressed after 40 lines: ${suppressed.join(', ')}`);
  log(
    `Note: autocannon runs in the benchmark process on the same ${os.availableParallelism()} cores as the ` +
      'services, nats-server and PostgreSQL; figures are for comparison on this machine, not capacity planning.',
  );
  log(`Finished in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
}

main()
  .then(
    () => 0,
    (error) => {
      if (!interrupted) console.error(`\nbench:api failed: ${error && error.stack ? error.stack : error}`);
      return 1;
    },
  )
  .then(async (code) => {
    if (interrupted) return; // the signal handler cleans up and exits
    await cleanup();
    process.exit(code);
  });
