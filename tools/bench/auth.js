#!/usr/bin/env node
// `npm run bench:auth`: what authentication costs.
//   1. argon2id with identity's parameters: time per hash and per verification, on this machine.
//   2. Per request: GET /api/v1/users/{id}/docs/{doc_id} through the real gateway with an access token (JWT verified
//      against the JWKS + cached session check) and with a personal access token (cached verification), against the
//      same gateway with its guard switched off (gateway-without-guard.js). Rounds alternate the three, so a drift of
//      the machine affects all of them alike. Prints req/s, p50/p99 and gateway CPU per request, and the ratios.
//   3. The JWT signature check alone, in this process (jose, EdDSA), per verification.
//   4. The gateway's authenticator alone, in this process, with warm caches, and the session check's NATS round trip.
// Everything runs isolated (its own database, nats-server, S3 server, ports, DOCFLOW_HOME) and is removed afterwards.
'use strict';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { randomBytes } = require('node:crypto');
const { mkdtempSync, readFileSync, readdirSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const {
  freePort,
  spawnService,
  startLocalPlatform,
  stopService,
  waitFor,
} = require('@docflow/local-platform');
const { dropDatabase } = require('@docflow/database');

const ROOT = path.resolve(__dirname, '../..');

function numberFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

const SETTINGS = {
  duration: numberFromEnv('BENCH_DURATION', 8),
  warmup: numberFromEnv('BENCH_WARMUP', 2),
  connections: numberFromEnv('BENCH_CONNECTIONS', 16),
  rounds: numberFromEnv('BENCH_ROUNDS', 2),
  hashes: numberFromEnv('BENCH_HASHES', 20),
  verifies: numberFromEnv('BENCH_JWT_VERIFIES', 5000),
  serverUrl: process.env.BENCH_DATABASE_SERVER || 'postgres://postgres@127.0.0.1:5432/postgres',
};

const log = (line = '') => console.log(line);
const fmt = (n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  for (const [i, row] of rows.entries()) {
    log(`  ${row.map((c, j) => String(c).padEnd(widths[j])).join('  ')}`);
    if (i === 0) log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  }
}

/** user + system CPU time of a process, in ms (Linux). */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** The pid of this process tree's child running `script` (the launcher starts the services as our children). */
function childRunning(script) {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      if (ppid === process.pid && cmdline.includes(script)) return Number(entry);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------- argon2

async function benchArgon2() {
  const { loadIdentityConfig } = require(path.join(ROOT, 'apps/identity/dist/config.js'));
  const { PasswordHasher } = require(path.join(ROOT, 'apps/identity/dist/accounts/password-hasher.js'));
  const config = loadIdentityConfig({});
  const hasher = new PasswordHasher(config);
  const password = 'correct horse battery staple';
  await hasher.hash(password); // first use: native module load
  const hashMs = [];
  const verifyMs = [];
  let last;
  for (let i = 0; i < SETTINGS.hashes; i++) {
    let t = performance.now();
    last = await hasher.hash(password);
    hashMs.push(performance.now() - t);
    t = performance.now();
    if (!(await hasher.verify(last, password))) throw new Error('argon2 verification failed');
    verifyMs.push(performance.now() - t);
  }
  const stats = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    return {
      mean: values.reduce((a, b) => a + b, 0) / values.length,
      p50: percentile(sorted, 50),
      max: sorted.at(-1),
    };
  };
  return {
    params: `argon2id m=${config.ARGON2_MEMORY_KIB} KiB (${fmt(config.ARGON2_MEMORY_KIB / 1024, 1)} MiB), t=${config.ARGON2_TIME_COST}, p=${config.ARGON2_PARALLELISM}`,
    sample: last.replace(/\$[^$]+\$[^$]+$/, '$<salt>$<hash>'),
    hash: stats(hashMs),
    verify: stats(verifyMs),
  };
}

// ------------------------------------------------------------------------------------------------ load

function load(url, headers, seconds) {
  return new Promise((resolve, reject) => {
    const times = [];
    const instance = autocannon(
      { url, headers, connections: SETTINGS.connections, duration: seconds, pipelining: 1, timeout: 10 },
      (error, result) => {
        if (error) return reject(error);
        const sorted = Float64Array.from(times).sort();
        resolve({
          rps: result.requests.average,
          total: result.requests.total,
          p50: percentile(sorted, 50),
          p99: percentile(sorted, 99),
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
        });
      },
    );
    instance.on('response', (_client, status, _bytes, responseTime) => {
      if (status >= 200 && status < 300) times.push(responseTime);
    });
  });
}

async function api(method, url, body, authorization) {
  const response = await fetch(url, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(authorization ? { authorization } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

// ------------------------------------------------------------------------------------------------ main

async function main() {
  log('docflow authentication benchmark');
  log(`  node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'})`);
  log(
    `  ${SETTINGS.connections} connections, ${SETTINGS.rounds} rounds × ${SETTINGS.duration} s per mode after ${SETTINGS.warmup} s warm-up; ` +
      `${SETTINGS.hashes} argon2 hashes (BENCH_CONNECTIONS, BENCH_ROUNDS, BENCH_DURATION, BENCH_WARMUP, BENCH_HASHES)`,
  );
  log('');

  log('1. argon2id, as identity hashes passwords (one at a time, this process)');
  const argon = await benchArgon2();
  log(`  ${argon.params}; a hash looks like ${argon.sample}`);
  table([
    ['operation', 'mean ms', 'p50 ms', 'max ms'],
    ['hash', fmt(argon.hash.mean, 1), fmt(argon.hash.p50, 1), fmt(argon.hash.max, 1)],
    ['verify', fmt(argon.verify.mean, 1), fmt(argon.verify.p50, 1), fmt(argon.verify.max, 1)],
  ]);
  log('');

  const home = mkdtempSync(path.join(os.tmpdir(), 'docflow-bench-auth-'));
  const db = new URL(SETTINGS.serverUrl);
  db.pathname = `/docflow_bench_${randomBytes(4).toString('hex')}`;
  const ports = {
    http: await freePort(),
    private: await freePort(),
    s3: await freePort(),
    nats: await freePort(),
  };
  let platform;
  let bare;
  const cleanup = async () => {
    if (bare) await stopService(bare).catch(() => undefined);
    if (platform) await platform.stop().catch(() => undefined);
    await dropDatabase(db.toString()).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  };
  process.on('SIGINT', () => void cleanup().finally(() => process.exit(130)));

  try {
    log('2. per request: GET /api/v1/users/{id}/docs/{doc_id}, gateway -> NATS -> users-docs -> PostgreSQL');
    platform = await startLocalPlatform({
      root: ROOT,
      env: {
        DATABASE_URL: db.toString(),
        NATS_URL: `nats://127.0.0.1:${ports.nats}`,
        HTTP_PORT: String(ports.http),
        PRIVATE_HTTP_PORT: String(ports.private),
        S3_PORT: String(ports.s3),
        DOCFLOW_HOME: home,
        LOG_LEVEL: 'warn',
        RATE_LIMIT_PREFIX: `docflow-bench-${randomBytes(4).toString('hex')}`,
      },
      log: () => undefined,
      serviceOutput: (service, line) => log(`  [${service}] ${line}`),
    });
    const session = await api('POST', `${platform.publicUrl}/auth/signup`, {
      name: 'Bench',
      email: `bench-${randomBytes(4).toString('hex')}@example.com`,
      password: randomBytes(12).toString('base64url'),
    });
    const jwt = `Bearer ${session.jwt}`;
    const pat = await api(
      'POST',
      `${platform.publicUrl}/auth/tokens`,
      { name: 'bench', scopes: ['documents:read'] },
      jwt,
    );
    const doc = await api(
      'POST',
      `${platform.publicUrl}/users/${session.user.id}/docs`,
      { name: 'bench.txt', contentType: 'text/plain', size: 10 },
      jwt,
    );
    const docPath = `/api/v1/users/${session.user.id}/docs/${doc.id}`;

    const barePort = await freePort();
    bare = spawnService({
      name: 'gateway-without-guard',
      script: path.join(__dirname, 'gateway-without-guard.js'),
      env: {
        NATS_URL: platform.natsUrl,
        HTTP_PORT: String(barePort),
        PRIVATE_HTTP_PORT: String(await freePort()),
        STORAGE_WEBHOOK_TOKEN: randomBytes(24).toString('hex'),
        LOG_LEVEL: 'warn',
        BENCH_PRINCIPAL_USER_ID: session.user.id,
      },
      output: (name, line) => log(`  [${name}] ${line}`),
    });
    const bareBase = `http://127.0.0.1:${barePort}`;
    await waitFor(
      async () => (await fetch(`${bareBase}/health/ready`).catch(() => ({ status: 0 }))).status === 200,
      {
        timeoutMs: 20_000,
        description: 'the gateway without guard',
      },
    );
    const guardedBase = platform.publicUrl.replace('/api/v1', '');
    const gatewayPid = childRunning('apps/gateway/dist/main.js');
    const modes = [
      { name: 'no guard', url: `${bareBase}${docPath}`, headers: {}, pid: bare.child.pid },
      {
        name: 'access token (JWT)',
        url: `${guardedBase}${docPath}`,
        headers: { authorization: jwt },
        pid: gatewayPid,
      },
      {
        name: 'personal access token',
        url: `${guardedBase}${docPath}`,
        headers: { authorization: `Bearer ${pat.token}` },
        pid: gatewayPid,
      },
    ];
    // Every mode answers the same document (and the bare one refuses nothing an anonymous caller sends).
    for (const mode of modes) {
      const res = await fetch(mode.url, { headers: mode.headers });
      if (res.status !== 200) throw new Error(`${mode.name}: ${res.status} ${await res.text()}`);
    }
    if ((await fetch(`${guardedBase}${docPath}`)).status !== 401)
      throw new Error('the real gateway admitted an anonymous call');

    const results = new Map(modes.map((m) => [m.name, []]));
    for (let round = 0; round < SETTINGS.rounds; round++) {
      for (const mode of modes) {
        await load(mode.url, mode.headers, SETTINGS.warmup);
        const before = cpuMs(mode.pid);
        const run = await load(mode.url, mode.headers, SETTINGS.duration);
        const cpu = (cpuMs(mode.pid) ?? NaN) - (before ?? NaN);
        if (run.non2xx || run.errors)
          throw new Error(`${mode.name}: ${run.non2xx} non-2xx, ${run.errors} errors`);
        results.get(mode.name).push({ ...run, cpuPerRequestMs: cpu / run.total });
        log(
          `  round ${round + 1} ${mode.name.padEnd(22)} ${fmt(run.rps, 0)} req/s, p50 ${fmt(run.p50)} ms, p99 ${fmt(run.p99)} ms`,
        );
      }
    }
    const mean = (name, key) => {
      const runs = results.get(name);
      return runs.reduce((a, r) => a + r[key], 0) / runs.length;
    };
    const base = (key) => mean('no guard', key);
    log('');
    table([
      ['mode', 'req/s', 'p50 ms', 'p99 ms', 'gateway CPU ms/req', 'req/s ratio', 'p50 ratio', 'CPU ratio'],
      ...modes.map((m) => [
        m.name,
        fmt(mean(m.name, 'rps'), 0),
        fmt(mean(m.name, 'p50')),
        fmt(mean(m.name, 'p99')),
        fmt(mean(m.name, 'cpuPerRequestMs'), 3),
        fmt(mean(m.name, 'rps') / base('rps')),
        fmt(mean(m.name, 'p50') / base('p50')),
        fmt(mean(m.name, 'cpuPerRequestMs') / base('cpuPerRequestMs')),
      ]),
    ]);
    log('  (ratios against "no guard"; the session check and token verification are cached, 5 s and 10 s)');
    log('');

    log('3. the JWT check alone (jose, EdDSA, against the JWKS), in this process');
    const jose = await import('jose');
    const jwks = jose.createLocalJWKSet(await api('GET', `${platform.publicUrl}/auth/.well-known/jwks.json`));
    for (let i = 0; i < 200; i++) await jose.jwtVerify(session.jwt, jwks);
    const started = performance.now();
    for (let i = 0; i < SETTINGS.verifies; i++) await jose.jwtVerify(session.jwt, jwks);
    const perVerify = ((performance.now() - started) * 1000) / SETTINGS.verifies;
    log(`  ${fmt(perVerify, 1)} µs per verification (${SETTINGS.verifies} verifications)`);
    log('');

    log("4. the gateway's authenticator alone, in this process, against the platform's identity over NATS");
    const { loadGatewayConfig } = require(path.join(ROOT, 'apps/gateway/dist/config.js'));
    const { IdentityAuthenticator, JwksCache } = require(
      path.join(ROOT, 'apps/gateway/dist/auth/identity.authenticator.js'),
    );
    const { NatsRpcClient } = require('@docflow/messaging');
    require('@nestjs/common').Logger.overrideLogger(false);
    const gatewayConfig = loadGatewayConfig({ STORAGE_WEBHOOK_TOKEN: randomBytes(16).toString('hex') });
    const nats = new NatsRpcClient({
      servers: platform.natsUrl,
      name: 'bench-auth',
      defaultTimeoutMs: 5_000,
    });
    nats.start();
    try {
      await waitFor(() => nats.isConnected(), { description: 'NATS' });
      const authenticator = new IdentityAuthenticator(
        nats,
        new JwksCache(nats, gatewayConfig),
        gatewayConfig,
      );
      const timeLoop = async (authorization, n) => {
        const request = { headers: { authorization } };
        await authenticator.authenticate(request);
        const t = performance.now();
        for (let i = 0; i < n; i++) await authenticator.authenticate(request);
        return ((performance.now() - t) * 1000) / n;
      };
      const warmJwt = await timeLoop(jwt, SETTINGS.verifies * 4);
      const warmPat = await timeLoop(`Bearer ${pat.token}`, SETTINGS.verifies * 4);
      const roundTrips = [];
      for (let i = 0; i < 300; i++) {
        const t = performance.now();
        await nats.send('identity.session.check', {
          userId: session.user.id,
          sessionId: randomBytes(16).toString('hex'),
        });
        roundTrips.push(performance.now() - t);
      }
      roundTrips.sort((a, b) => a - b);
      table([
        ['what', 'per call'],
        ['access token, caches warm (the usual request)', `${fmt(warmJwt, 1)} µs`],
        ['personal access token, cache warm', `${fmt(warmPat, 1)} µs`],
        [
          'session check over NATS (each SESSION_CHECK_CACHE_MS)',
          `p50 ${fmt(percentile(roundTrips, 50))} ms, p99 ${fmt(percentile(roundTrips, 99))} ms`,
        ],
        ['signature check (once per token and minute), part 3', `${fmt(perVerify, 1)} µs`],
      ]);
    } finally {
      await nats.close();
    }
  } finally {
    await cleanup();
  }
}

main().catch((error) => {
  console.error(`bench:auth failed: ${error.stack || error.message}`);
  process.exit(1);
});
