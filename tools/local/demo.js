#!/usr/bin/env node
// `npm run demo`: starts the platform on the embedded defaults and walks a sample document through
// create → upload → uploaded → download → transformed by the worker step, printing each step.
// `--keep` leaves the platform running.
'use strict';
// The AWS SDK's notice about Node 20 says nothing to someone trying docflow (the machines here run Node 20).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const path = require('node:path');
const http = require('node:http');
const { spawn } = require('node:child_process');
const { createHash, randomBytes, randomUUID } = require('node:crypto');
const {
  CALLBACK_SIGNATURE_HEADER,
  CALLBACK_TIMESTAMP_HEADER,
  jobManifestKey,
  jobOutputPrefix,
  verifyCallback,
} = require('@docflow/contracts');
const { startLocalPlatform, waitFor } = require('@docflow/local-platform');
const { ObjectStorage } = require('@docflow/storage');

const root = path.resolve(__dirname, '../..');
const keep = process.argv.includes('--keep');

const SAMPLE = `# Quarterly operations report

## Results
Revenue grew 12% quarter over quarter, driven by the new document pipeline.
The pipeline now processes contracts, invoices and support transcripts for forty customers.
Gross margin improved by three points because processing moved to shared infrastructure.

## Customers
Support tickets fell by a third after the self-service portal launched in August.
Customer satisfaction rose to 4.6 out of 5, the highest score since the survey began.
Two enterprise customers renewed early, and one expanded its contract to three regions.

## Team
The team hired four engineers and two designers to expand the platform.
Onboarding time for new engineers dropped from three weeks to eight days.

## Next quarter
Next quarter the company will expand to two new regions and cut processing time in half.
The largest risk is the hiring market for infrastructure engineers.
`;

/**
 * Runs the worker step on the document, as a job will (the jobs API arrives with issue 4; here the demo
 * plays the jobs service: it writes the manifest, receives the step's signed events, and reads the output).
 */
async function transform(platform, userId, doc) {
  const jobId = randomUUID();
  const secret = randomBytes(24).toString('hex');
  const storage = new ObjectStorage({
    bucket: 'docflow',
    region: 'us-east-1',
    endpoint: platform.s3Endpoint,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
  });
  const manifest = {
    version: 1,
    jobId,
    userId,
    crew: 'summarize',
    params: {},
    strategy: 'individual',
    model: { provider: 'offline', model: 'extractive' },
    documents: [
      { docId: doc.id, name: doc.name, contentType: doc.contentType, size: doc.size, key: doc.key },
    ],
    chunks: [{ index: 0, inputs: [{ inputId: doc.id, docIds: [doc.id] }] }],
    outputPrefix: jobOutputPrefix(userId, jobId),
    limits: { maxDocumentBytes: 100 * 1024 * 1024, chunkTokens: 3000, modelConcurrency: 4 },
  };
  const manifestKey = jobManifestKey(userId, jobId);
  await storage.put(manifestKey, JSON.stringify(manifest), 'application/json');

  step(6, 'run the worker step with the "summarize" crew on the offline model (what a job runs)');
  console.log(`    docflow-worker run --job ${jobId} --manifest s3://docflow/${manifestKey} --chunk 0`);
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const check = verifyCallback(
        secret,
        req.headers[CALLBACK_TIMESTAMP_HEADER],
        req.headers[CALLBACK_SIGNATURE_HEADER],
        body,
      );
      if (!check.ok) {
        console.log(`    refused a callback: ${check.reason}`);
        res.writeHead(401).end();
        return;
      }
      const e = JSON.parse(body);
      const what = [e.type, e.stage, e.progress !== undefined ? `${e.progress}%` : undefined]
        .filter(Boolean)
        .join(' ');
      console.log(`    event (signed) ${what}${e.error ? `: ${e.error.message}` : ''}`);
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const code = await new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        path.join(root, 'apps/worker/dist/main.js'),
        'run',
        '--job',
        jobId,
        '--manifest',
        `s3://docflow/${manifestKey}`,
        '--chunk',
        '0',
      ],
      {
        env: {
          ...process.env,
          S3_ENDPOINT: platform.s3Endpoint,
          S3_ACCESS_KEY_ID: 'S3RVER',
          S3_SECRET_ACCESS_KEY: 'S3RVER',
          DOCFLOW_CALLBACK_URL: `http://127.0.0.1:${receiver.address().port}/api/private`,
          DOCFLOW_CALLBACK_SECRET: secret,
          LOG_LEVEL: 'warn',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    child.once('exit', resolve);
  });
  receiver.close();
  if (code !== 0) throw new Error(`the worker step exited with ${code}`);

  step(7, `the output, ${manifest.outputPrefix}${doc.id}.md`);
  const markdown = (await storage.getBytes(`${manifest.outputPrefix}${doc.id}.md`, 1e7)).toString('utf8');
  console.log(markdown.replace(/^/gm, '    | '));
  const sidecar = JSON.parse(
    (await storage.getBytes(`${manifest.outputPrefix}${doc.id}.json`, 1e7)).toString('utf8'),
  );
  console.log(
    `    sidecar: agents ${sidecar.agentsRun.join(', ')}; model ${sidecar.models.join(', ')}; ` +
      `${sidecar.usage.totalTokens} tokens; cost $${sidecar.costEstimateUsd}; ${sidecar.durationsMs.total} ms`,
  );
  storage.destroy();
  console.log('\nThe document went in, came back out unchanged, and was transformed by an agent crew.');
}

function step(n, text) {
  console.log(`\n[${n}] ${text}`);
}

/** The signed-in user's `Authorization` header, once step 1 has signed up. */
let authorization;

async function call(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(authorization ? { authorization } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return json;
}

async function main() {
  console.log('Starting docflow on this machine (embedded defaults where nothing is running)...');
  const platform = await startLocalPlatform({
    root,
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    log: (line) => console.log(`  ${line}`),
  });
  const api = platform.publicUrl;
  let failed = false;
  try {
    step(1, `POST ${api}/auth/signup (then every call sends Authorization: Bearer <jwt>)`);
    const session = await call('POST', `${api}/auth/signup`, {
      name: 'Demo User',
      email: `demo-${Date.now()}@example.com`,
      password: randomBytes(12).toString('base64url'),
    });
    const user = session.user;
    authorization = `Bearer ${session.jwt}`;
    const me = await call('GET', `${api}/auth/me`);
    console.log(`    user ${user.id} (${me.email}); access token valid ${session.expiresIn} s`);

    const bytes = Buffer.from(SAMPLE, 'utf8');
    step(2, `POST ${api}/users/${user.id}/docs`);
    const doc = await call('POST', `${api}/users/${user.id}/docs`, {
      name: 'quarterly-report.md',
      contentType: 'text/markdown',
      size: bytes.length,
    });
    console.log(`    document ${doc.id}: ${doc.status}, ${doc.size} bytes`);
    console.log(`    presigned ${doc.upload.method}, expires ${doc.upload.expiresAt}`);

    step(3, 'PUT the bytes straight to object storage with the presigned URL');
    const { ['Content-Length']: _length, ...headers } = doc.upload.headers;
    const put = await fetch(doc.upload.url, { method: 'PUT', headers, body: bytes });
    if (!put.ok) throw new Error(`upload answered ${put.status}`);
    console.log(`    storage answered ${put.status}, ETag ${put.headers.get('etag')}`);

    step(4, 'wait for the storage event to mark it uploaded');
    const started = Date.now();
    const uploaded = await waitFor(
      async () => {
        const current = await call('GET', `${api}/users/${user.id}/docs/${doc.id}`);
        if (current.status === 'rejected') throw new Error(`rejected: ${current.statusReason}`);
        return current.status === 'uploaded' ? current : undefined;
      },
      { timeoutMs: 10_000, description: 'the document to become uploaded' },
    );
    console.log(`    status ${uploaded.status} after ${Date.now() - started} ms`);

    step(5, 'download it with the presigned URL and compare');
    const download = await fetch(uploaded.download.url);
    const got = Buffer.from(await download.arrayBuffer());
    const sha = (b) => createHash('sha256').update(b).digest('hex').slice(0, 16);
    console.log(`    ${download.status}, ${got.length} bytes, sha256 ${sha(got)} (uploaded ${sha(bytes)})`);
    if (!got.equals(bytes)) throw new Error('the downloaded bytes differ from the uploaded ones');
    console.log(`    ${download.headers.get('content-disposition')}`);

    const key = decodeURIComponent(new URL(doc.upload.url).pathname.replace(/^\/docflow\//, ''));
    await transform(platform, user.id, { ...uploaded, key });
  } catch (error) {
    failed = true;
    console.error(`\nDemo failed: ${error.message}`);
  }
  if (keep && !failed) {
    console.log(`\ndocflow keeps running at ${api}. Press Ctrl-C to stop.`);
    const stop = async () => {
      await platform.stop();
      process.exit(0);
    };
    process.on('SIGINT', () => void stop());
    process.on('SIGTERM', () => void stop());
    return;
  }
  await platform.stop();
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  console.error(`docflow could not start: ${error.message}`);
  process.exit(1);
});
