#!/usr/bin/env node
// `npm run demo`: starts the platform on the embedded defaults and walks a sample document through
// create → upload → uploaded → download, printing each step. `--keep` leaves the platform running.
'use strict';
const path = require('node:path');
const { createHash } = require('node:crypto');
const { startLocalPlatform, waitFor } = require('@docflow/local-platform');

const root = path.resolve(__dirname, '../..');
const keep = process.argv.includes('--keep');

const SAMPLE = `# Quarterly operations report

Revenue grew 12% quarter over quarter, driven by the new document pipeline.
Support tickets fell by a third after the self-service portal launched.
Next quarter: expand to two new regions and cut processing time in half.
`;

function step(n, text) {
  console.log(`\n[${n}] ${text}`);
}

async function call(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
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
    step(1, `POST ${api}/users`);
    const user = await call('POST', `${api}/users`, {
      name: 'Demo User',
      email: `demo-${Date.now()}@example.com`,
    });
    console.log(`    user ${user.id} (${user.email})`);

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

    console.log('\nThe document went in and came back out unchanged.');
    console.log('(Transforming it with an agent crew arrives with the jobs and worker services.)');
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
