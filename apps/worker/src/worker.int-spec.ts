// The built worker (`node apps/worker/dist/main.js`), as the local engine and the container run it, against
// the local S3 server and a callback receiver that checks every signature.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  CALLBACK_SIGNATURE_HEADER,
  CALLBACK_TIMESTAMP_HEADER,
  WorkerExitCode,
  verifyCallback,
  type JobEvent,
  type JobManifest,
} from '@docflow/contracts';
import { LocalS3Server, freePort } from '@docflow/local-platform';
import { ObjectStorage } from '@docflow/storage';
import { startOpenAiCompatibleServer } from '@docflow/agents/testing';
import { makeDocx, makePdf } from './extract/fixtures';

const WORKER = resolve(__dirname, '../dist/main.js');
const SECRET = 'callback-secret-for-tests-0123456789';

interface Receiver {
  url: string;
  events: JobEvent[];
  badSignatures: number;
  /** Called after each event is recorded. */
  onEvent?: (e: JobEvent) => void;
  /** The status to answer an event with (204 when unset). */
  status?: (e: JobEvent) => number;
  /** Answers a signed provider-key request (`POST …/jobs/{job_id}/provider-key`). */
  providerKey?: (jobId: string, keyId: string) => { status: number; body: unknown };
  server: Server;
}

async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    events: [],
    badSignatures: 0,
    server: undefined as unknown as Server,
  };
  receiver.server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const check = verifyCallback(
        SECRET,
        req.headers[CALLBACK_TIMESTAMP_HEADER] as string,
        req.headers[CALLBACK_SIGNATURE_HEADER] as string,
        body,
      );
      const keyRequest = /^\/api\/private\/jobs\/([^/]+)\/provider-key$/.exec(req.url ?? '');
      if (check.ok && keyRequest && receiver.providerKey) {
        const answer = receiver.providerKey(keyRequest[1]!, (JSON.parse(body) as { keyId: string }).keyId);
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
        return;
      }
      if (!check.ok || !/^\/api\/private\/webhooks\/jobs\/[^/]+\/events$/.test(req.url ?? '')) {
        receiver.badSignatures++;
        res.writeHead(401).end();
        return;
      }
      const event = JSON.parse(body) as JobEvent;
      receiver.events.push(event);
      receiver.onEvent?.(event);
      res.writeHead(receiver.status?.(event) ?? 204).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => receiver.server.listen(port, '127.0.0.1', r));
  receiver.url = `http://127.0.0.1:${port}/api/private`;
  return receiver;
}

describe('docflow-worker', () => {
  let dir: string;
  let s3: LocalS3Server;
  let storage: ObjectStorage;
  let receiver: Receiver;
  let endpoint: string;
  let seq = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'docflow-worker-'));
    s3 = new LocalS3Server({ port: 0, directory: join(dir, 's3'), bucket: 'docflow' });
    endpoint = await s3.start();
    storage = new ObjectStorage({
      bucket: 'docflow',
      region: 'us-east-1',
      endpoint,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
    });
  });

  beforeEach(async () => {
    receiver = await startReceiver();
  });

  afterEach(async () => {
    receiver.server.closeAllConnections();
    await new Promise((r) => receiver.server.close(r));
  });

  afterAll(async () => {
    storage?.destroy();
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const REPORT = [
    '# Quarterly report',
    '',
    'Revenue grew by twelve percent in the third quarter, driven by the new document pipeline.',
    'Support tickets fell by a third after the self-service portal launched in August.',
    'The team hired four engineers and two designers to expand the platform.',
    'Next quarter the company plans to open offices in two new regions.',
  ].join('\n');

  async function seedJob(
    docs: { name: string; contentType: string; bytes: Buffer }[],
    strategy: JobManifest['strategy'] = 'individual',
    modelConcurrency = 4,
  ) {
    const jobId = `job-${++seq}-${Date.now()}`;
    const userId = 'user-1';
    const documents = [];
    for (const [i, d] of docs.entries()) {
      const key = `users/${userId}/docs/d${i}/${d.name}`;
      await storage.put(key, d.bytes, d.contentType);
      documents.push({ docId: `d${i}`, name: d.name, contentType: d.contentType, size: d.bytes.length, key });
    }
    const manifest: JobManifest = {
      version: 1,
      jobId,
      userId,
      crew: 'summarize',
      params: {},
      strategy,
      model: { provider: 'offline', model: 'extractive' },
      documents,
      chunks: [
        strategy === 'combined'
          ? { index: 0, inputs: [{ inputId: 'combined', docIds: documents.map((d) => d.docId) }] }
          : { index: 0, inputs: documents.map((d) => ({ inputId: d.docId, docIds: [d.docId] })) },
      ],
      outputPrefix: `users/${userId}/jobs/${jobId}/outputs/`,
      limits: { maxDocumentBytes: 1024 * 1024, chunkTokens: 3000, modelConcurrency },
    };
    const manifestKey = `users/${userId}/jobs/${jobId}/manifest.json`;
    await storage.put(manifestKey, JSON.stringify(manifest), 'application/json');
    return {
      jobId,
      manifest,
      args: ['run', '--job', jobId, '--manifest', `s3://docflow/${manifestKey}`, '--chunk', '0'],
    };
  }

  function worker(
    args: string[],
    env: Record<string, string> = {},
  ): { child: ChildProcess; exit: Promise<number | null>; output: string[]; stdout: string[] } {
    const output: string[] = [];
    const stdout: string[] = [];
    const child = spawn(process.execPath, [WORKER, ...args], {
      env: {
        PATH: process.env.PATH,
        S3_ENDPOINT: endpoint,
        S3_ACCESS_KEY_ID: 'S3RVER',
        S3_SECRET_ACCESS_KEY: 'S3RVER',
        DOCFLOW_CALLBACK_URL: receiver.url,
        DOCFLOW_CALLBACK_SECRET: SECRET,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output.push(String(d)), stdout.push(String(d))));
    child.stderr!.on('data', (d) => output.push(String(d)));
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    return { child, exit, output, stdout };
  }

  async function outputs(prefix: string): Promise<string[]> {
    const out = await storage.client.send(new ListObjectsV2Command({ Bucket: 'docflow', Prefix: prefix }));
    return (out.Contents ?? []).map((o) => o.Key!.slice(prefix.length)).sort();
  }

  it('transforms text, Markdown, HTML, PDF and DOCX documents, with signed events in order', async () => {
    const job = await seedJob([
      { name: 'report.txt', contentType: 'text/plain', bytes: Buffer.from(REPORT) },
      { name: 'report.md', contentType: 'text/markdown', bytes: Buffer.from(REPORT) },
      {
        name: 'report.html',
        contentType: 'text/html',
        bytes: Buffer.from(`<h1>Quarterly report</h1><p>${REPORT.split('\n').slice(2).join('</p><p>')}</p>`),
      },
      { name: 'report.pdf', contentType: 'application/pdf', bytes: makePdf(REPORT.split('\n').slice(2)) },
      {
        name: 'report.docx',
        contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        bytes: await makeDocx(REPORT.split('\n').slice(2)),
      },
    ]);
    const run = worker(job.args);
    expect(await run.exit).toBe(WorkerExitCode.OK);
    expect(receiver.badSignatures).toBe(0);

    expect(await outputs(job.manifest.outputPrefix)).toEqual([
      'd0.json',
      'd0.md',
      'd1.json',
      'd1.md',
      'd2.json',
      'd2.md',
      'd3.json',
      'd3.md',
      'd4.json',
      'd4.md',
    ]);
    for (const i of [0, 1, 2, 3, 4]) {
      const md = (await storage.getBytes(`${job.manifest.outputPrefix}d${i}.md`, 1e6))!.toString();
      expect(md).toMatch(/Revenue grew by twelve percent/);
      const sidecar = JSON.parse(
        (await storage.getBytes(`${job.manifest.outputPrefix}d${i}.json`, 1e6))!.toString(),
      );
      expect(sidecar).toMatchObject({
        jobId: job.jobId,
        inputId: `d${i}`,
        crew: 'summarize',
        usage: { totalTokens: expect.any(Number) },
      });
      expect(sidecar.usage.totalTokens).toBeGreaterThan(0);
      expect(sidecar.agentsRun.length).toBeGreaterThan(0);
    }
    for (const i of [0, 1, 2, 3, 4]) {
      const types = receiver.events
        .filter((e) => e.inputId === `d${i}` && e.type !== 'stage_progress')
        .map((e) => `${e.type}${e.stage ? ` ${e.stage}` : ''}`);
      expect(types).toEqual([
        'stage_started extract',
        'stage_completed extract',
        'stage_started transform',
        'stage_completed transform',
        'stage_started load',
        'stage_completed load',
        'doc_completed',
      ]);
    }
  });

  it('does not exit before its last callbacks were delivered, retries included', async () => {
    const job = await seedJob([
      { name: 'a.txt', contentType: 'text/plain', bytes: Buffer.from(REPORT) },
      { name: 'b.txt', contentType: 'text/plain', bytes: Buffer.from(REPORT) },
    ]);
    // Each input's doc_completed, the last thing it reports, fails once: the step's work is done by then.
    const refused = new Set<string>();
    receiver.status = (e) =>
      e.type === 'doc_completed' && !refused.has(e.id) ? (refused.add(e.id), 503) : 204;
    expect(await worker(job.args).exit).toBe(WorkerExitCode.OK);
    for (const inputId of ['d0', 'd1']) {
      const mine = receiver.events.filter((e) => e.inputId === inputId);
      expect(mine.slice(-2).map((e) => e.type)).toEqual(['doc_completed', 'doc_completed']);
      expect(mine.at(-1)!.id).toBe(mine.at(-2)!.id);
    }
  });

  it('combines documents into one output with the combined strategy', async () => {
    const job = await seedJob(
      [
        { name: 'a.txt', contentType: 'text/plain', bytes: Buffer.from(REPORT) },
        {
          name: 'b.txt',
          contentType: 'text/plain',
          bytes: Buffer.from('A second document about hiring plans for engineers.'),
        },
      ],
      'combined',
    );
    expect(await worker(job.args).exit).toBe(WorkerExitCode.OK);
    expect(await outputs(job.manifest.outputPrefix)).toEqual(['combined.json', 'combined.md']);
    const sidecar = JSON.parse(
      (await storage.getBytes(`${job.manifest.outputPrefix}combined.json`, 1e6))!.toString(),
    );
    expect(sidecar.docIds).toEqual(['d0', 'd1']);
  });

  it('after a crash, a rerun leaves exactly one output per document and repeats events with the same ids', async () => {
    // The step does not wait for its callbacks, so the crash is placed by the model instead: d1's model call
    // is held, and the step is killed once d0's doc_completed arrived, with d1 in the middle of transform.
    const model = await startOpenAiCompatibleServer();
    let releaseModel = () => undefined as void;
    const modelHeld = new Promise<void>((resolve) => (releaseModel = resolve));
    let d1Asked = false;
    let check = () => undefined as void;
    model.setHandler(async (body) => {
      if (JSON.stringify(body.messages).includes('REVENUE GREW')) {
        d1Asked = true;
        check();
        await modelHeld;
      }
      return { content: 'Revenue grew; support tickets fell.' };
    });
    try {
      const job = await seedJob(
        [
          { name: 'a.txt', contentType: 'text/plain', bytes: Buffer.from(REPORT) },
          { name: 'b.txt', contentType: 'text/plain', bytes: Buffer.from(REPORT.toUpperCase()) },
        ],
        'individual',
        1, // one input at a time: d0, then d1
      );
      await storage.put(
        `users/user-1/jobs/${job.jobId}/manifest.json`,
        JSON.stringify({ ...job.manifest, model: { provider: 'openai', model: 'gpt-test' } }),
        'application/json',
      );
      const env = { DOCFLOW_PROVIDER_BASE_URL: model.baseURL, DOCFLOW_PROVIDER_API_KEY: 'sk-test' };
      // d1's model call may come before or after d0's last callback: checked on each.
      const crashPoint = new Promise<void>((resolve) => {
        check = () => {
          const d0Done = receiver.events.some((e) => e.type === 'doc_completed' && e.inputId === 'd0');
          if (d0Done && d1Asked) resolve();
        };
        receiver.onEvent = check;
      });
      const first = worker(job.args, env);
      await crashPoint;
      first.child.kill('SIGKILL');
      expect(await first.exit).toBeNull();
      expect(await outputs(job.manifest.outputPrefix)).toEqual(['d0.json', 'd0.md']);
      releaseModel();
      receiver.onEvent = undefined;

      const firstIds = receiver.events.map((e) => e.id);
      const second = worker(job.args, env);
      expect(await second.exit).toBe(WorkerExitCode.OK);
      expect(await outputs(job.manifest.outputPrefix)).toEqual(['d0.json', 'd0.md', 'd1.json', 'd1.md']);
      const rerunD0 = receiver.events.slice(firstIds.length).filter((e) => e.inputId === 'd0');
      expect(rerunD0.map((e) => e.type)).toEqual(['doc_completed']);
      expect(firstIds).toContain(rerunD0[0]!.id);
    } finally {
      releaseModel();
      await model.close();
    }
  });

  it.each([
    [
      'binary',
      'data.txt',
      'text/plain',
      Buffer.from([0x00, 0x01, 0x02, 0xff]),
      'data.txt looks binary, not text',
    ],
    ['empty', 'empty.txt', 'text/plain', Buffer.alloc(0), 'empty.txt is empty'],
    [
      'malformed PDF',
      'x.pdf',
      'application/pdf',
      Buffer.from('%PDF-1.7\nnot really'),
      'x.pdf could not be read as a PDF',
    ],
    ['unsupported', 'x.exe', 'application/x-msdownload', Buffer.from('MZ'), 'unsupported content type'],
  ])(
    'ends a %s document as a permanent failure with a clear message (exit 65)',
    async (_label, name, type, bytes, message) => {
      const job = await seedJob([{ name, contentType: type, bytes }]);
      const run = worker(job.args);
      expect(await run.exit).toBe(WorkerExitCode.PERMANENT);
      expect(receiver.events.at(-1)).toMatchObject({
        type: 'doc_failed',
        error: { kind: 'permanent', message: expect.stringContaining(message) },
      });
      expect(await outputs(job.manifest.outputPrefix)).toEqual([]);
    },
  );

  it('ends an oversize document as a permanent failure', async () => {
    const job = await seedJob([
      { name: 'big.txt', contentType: 'text/plain', bytes: Buffer.alloc(2 * 1024 * 1024, 'a') },
    ]);
    expect(await worker(job.args).exit).toBe(WorkerExitCode.PERMANENT);
    expect(receiver.events.at(-1)).toMatchObject({
      type: 'doc_failed',
      error: { kind: 'permanent', message: expect.stringContaining('over the limit') },
    });
  });

  it("plans: prints only the manifest's chunk list on standard output (the fan-out's withParam)", async () => {
    const job = await seedJob([{ name: 'a.txt', contentType: 'text/plain', bytes: Buffer.from(REPORT) }]);
    const manifestKey = `users/user-1/jobs/${job.jobId}/manifest.json`;
    const chunks = [0, 1, 2].map((index) => ({ index, inputs: job.manifest.chunks[0]!.inputs }));
    await storage.put(manifestKey, JSON.stringify({ ...job.manifest, chunks }), 'application/json');
    const plan = worker(['plan', '--job', job.jobId, '--manifest', `s3://docflow/${manifestKey}`]);
    expect(await plan.exit).toBe(WorkerExitCode.OK);
    expect(JSON.parse(plan.stdout.join(''))).toEqual([0, 1, 2]);
    expect(receiver.events.filter((e) => e.jobId === job.jobId)).toEqual([]);

    const missing = worker([
      'plan',
      '--job',
      job.jobId,
      '--manifest',
      's3://docflow/users/user-1/jobs/none.json',
    ]);
    expect(await missing.exit).toBe(WorkerExitCode.PERMANENT);
    expect(missing.stdout.join('')).toBe('');
    expect(missing.output.join('')).toContain('does not exist');
  });

  it('exits 75 (retryable) when object storage cannot be reached', async () => {
    const job = await seedJob([{ name: 'a.txt', contentType: 'text/plain', bytes: Buffer.from(REPORT) }]);
    const run = worker(job.args, { S3_ENDPOINT: `http://127.0.0.1:${await freePort()}` });
    expect(await run.exit).toBe(WorkerExitCode.RETRYABLE);
  });

  it('exits 64 on bad arguments or configuration, naming the problem', async () => {
    const noJob = worker(['run', '--manifest', 's3://docflow/x']);
    expect(await noJob.exit).toBe(WorkerExitCode.USAGE);
    expect(noJob.output.join('')).toContain('--job is required');
    const noSecret = worker(['run', '--job', 'j', '--manifest', 's3://docflow/x'], {
      DOCFLOW_CALLBACK_SECRET: '',
    });
    expect(await noSecret.exit).toBe(WorkerExitCode.USAGE);
    expect(noSecret.output.join('')).toContain('DOCFLOW_CALLBACK_SECRET');
  });

  it("runs with the job's stored key, fetched from the platform and never written anywhere", async () => {
    const key = 'sk-stored-in-the-vault-0123456789';
    const model = await startOpenAiCompatibleServer({ apiKey: key });
    try {
      const job = await seedJob([{ name: 'a.txt', contentType: 'text/plain', bytes: Buffer.from(REPORT) }]);
      const manifest = {
        ...job.manifest,
        model: { provider: 'openai', model: 'gpt-test' },
        apiKeyId: 'key-1',
      };
      await storage.put(
        `users/user-1/jobs/${job.jobId}/manifest.json`,
        JSON.stringify(manifest),
        'application/json',
      );
      const asked: string[] = [];
      receiver.providerKey = (jobId, keyId) => {
        asked.push(`${jobId}/${keyId}`);
        return { status: 200, body: { keyId, provider: 'openai', key } };
      };
      const run = worker(job.args, { DOCFLOW_PROVIDER_BASE_URL: model.baseURL, LOG_LEVEL: 'trace' });
      expect(await run.exit).toBe(WorkerExitCode.OK);
      expect(asked).toEqual([`${job.jobId}/key-1`]);
      expect(model.stats.completions).toBeGreaterThan(0);
      expect(receiver.events.filter((e) => e.type === 'doc_completed')).toHaveLength(1);
      expect(run.output.join('')).not.toContain(key);
      const sidecar = await storage.getBytes(`users/user-1/jobs/${job.jobId}/outputs/d0.json`, 1_000_000);
      expect(sidecar!.toString('utf8')).not.toContain(key);

      // The job ended meanwhile: the platform refuses the key, and the step fails for good (65), not retried.
      const again = await seedJob([{ name: 'b.txt', contentType: 'text/plain', bytes: Buffer.from(REPORT) }]);
      await storage.put(
        `users/user-1/jobs/${again.jobId}/manifest.json`,
        JSON.stringify({ ...again.manifest, model: manifest.model, apiKeyId: 'key-1' }),
        'application/json',
      );
      receiver.providerKey = () => ({
        status: 409,
        body: { error: { code: 'CONFLICT', message: 'the job is already cancelled' } },
      });
      const refused = worker(again.args, { DOCFLOW_PROVIDER_BASE_URL: model.baseURL });
      expect(await refused.exit).toBe(WorkerExitCode.PERMANENT);
      expect(refused.output.join('')).toContain('the job is already cancelled');
    } finally {
      await model.close();
    }
  });

  it('never writes the callback secret or the provider key to its output', async () => {
    const job = await seedJob([{ name: 'a.txt', contentType: 'text/plain', bytes: Buffer.from(REPORT) }]);
    const run = worker(job.args, {
      DOCFLOW_PROVIDER_API_KEY: 'sk-test-never-log-me-1234',
      LOG_LEVEL: 'trace',
    });
    expect(await run.exit).toBe(WorkerExitCode.OK);
    const text = run.output.join('');
    expect(text).toContain('step finished');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('sk-test-never-log-me-1234');
  });
});
