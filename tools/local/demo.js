#!/usr/bin/env node
// `npm run demo`: starts the platform on the embedded defaults and walks a sample document through
// sign up → create → upload → uploaded → download → a job transforms it (followed live) → download the output.
// `--keep` leaves the platform running.
'use strict';
// The AWS SDK's notice about Node 20 says nothing to someone trying docflow (the machines here run Node 20).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const path = require('node:path');
const { createHash, randomBytes } = require('node:crypto');
const { startLocalPlatform, waitFor } = require('@docflow/local-platform');

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
 * The main job: POST a job over the document, follow its events live (Server-Sent Events), then download the
 * output document the job registered, through the documents API like any other document.
 */
async function transform(api, userId, doc) {
  step(6, `POST ${api}/users/${userId}/jobs  { docIds: [document], crew: "summarize" }  (offline model)`);
  const job = await call('POST', `${api}/users/${userId}/jobs`, { docIds: [doc.id], crew: 'summarize' });
  console.log(`    job ${job.id}: ${job.status} (engine ${job.engine})`);

  step(7, `GET ${api}/users/${userId}/jobs/${job.id}/events  (Server-Sent Events, live)`);
  const response = await fetch(`${api}/users/${userId}/jobs/${job.id}/events`, {
    headers: { accept: 'text/event-stream', authorization },
  });
  if (!response.ok) throw new Error(`the event stream answered ${response.status}`);
  const decoder = new TextDecoder();
  let buffer = '';
  let last;
  for await (const bytes of response.body) {
    buffer += decoder.decode(bytes, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const type = /^event: (.*)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (!type || type === 'heartbeat' || !data) continue;
      const event = JSON.parse(data);
      const what = [type, event.stage, event.progress !== undefined ? `${event.progress}%` : undefined]
        .filter((part) => part !== undefined)
        .join(' ');
      console.log(`    event ${what}${event.error ? `: ${event.error.message}` : ''}`);
      last = type;
    }
    if (last === 'job_completed' || last === 'job_failed' || last === 'job_cancelled') break;
  }
  if (last !== 'job_completed') throw new Error(`the job ended with ${last ?? 'no final event'}`);

  const done = await call('GET', `${api}/users/${userId}/jobs/${job.id}`);
  const outputId = done.outputDocIds[0];
  step(8, `GET ${api}/users/${userId}/docs/${outputId}  (the output: a document of kind "output")`);
  const output = await call('GET', `${api}/users/${userId}/docs/${outputId}`);
  console.log(`    ${output.name}: ${output.kind}, from job ${output.jobId}, ${output.size} bytes`);
  const markdown = await (await fetch(output.download.url)).text();
  console.log(markdown.replace(/^/gm, '    | '));
  console.log(
    `    tokens ${done.usage.totalTokens}; ${done.progress}% in ${
      (Date.parse(done.finishedAt) - Date.parse(done.createdAt)) / 1000
    } s`,
  );
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

    await transform(api, user.id, uploaded);
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
