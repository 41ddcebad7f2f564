import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowStatus } from '../workflow-engine';
import { LocalWorkflowEngine } from './local-workflow-engine';

/** A stand-in worker: behaves per chunk as the test script says, and records each start. */
const FAKE_WORKER = `
const fs = require('node:fs');
const chunk = process.argv[process.argv.indexOf('--chunk') + 1];
const plan = JSON.parse(process.env.FAKE_PLAN)[chunk] || [0];
const log = process.env.FAKE_LOG;
const attempt = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\\n').filter((l) => l.startsWith(chunk + ' ')).length : 0;
fs.appendFileSync(log, chunk + ' ' + Date.now() + ' secret=' + (process.env.DOCFLOW_CALLBACK_SECRET || '') + ' db=' + (process.env.DATABASE_URL || '') + '\\n');
const step = plan[Math.min(attempt, plan.length - 1)];
if (step === 'sleep') setTimeout(() => process.exit(0), 60000);
else process.exit(step);
`;

describe(LocalWorkflowEngine.name, () => {
  let dir: string;
  let log: string;
  let worker: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'docflow-local-engine-'));
    log = join(dir, 'starts.log');
    worker = join(dir, 'worker.js');
    writeFileSync(worker, FAKE_WORKER);
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function engine(
    plan: Record<string, (number | 'sleep')[]>,
    extra: Partial<ConstructorParameters<typeof LocalWorkflowEngine>[0]> = {},
  ) {
    return new LocalWorkflowEngine({
      workerEntry: worker,
      env: { FAKE_PLAN: JSON.stringify(plan), FAKE_LOG: log },
      concurrency: 2,
      retryBackoffMs: 10,
      stopGraceMs: 500,
      ...extra,
    });
  }

  const request = (chunkCount: number, deadlineSeconds = 60) => ({
    jobId: 'job-1',
    userId: 'u',
    manifestKey: 'm.json',
    bucket: 'b',
    chunkCount,
    parallelism: 2,
    callbackSecret: 'the-callback-secret',
    deadlineSeconds,
    concurrencyKey: 'u',
  });

  async function finished(sut: LocalWorkflowEngine): Promise<WorkflowStatus> {
    const abort = new AbortController();
    return new Promise<WorkflowStatus>((resolve) => {
      void sut.watch((s) => {
        if (s.phase === 'Succeeded' || s.phase === 'Failed') {
          abort.abort();
          resolve(s);
        }
      }, abort.signal);
    });
  }

  const starts = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);

  it('runs every chunk and succeeds; a step gets the callback secret but not the service environment', async () => {
    process.env.DATABASE_URL = 'postgres://service-only';
    const sut = engine({});
    const done = finished(sut);
    await sut.submit(request(3));
    expect(await done).toMatchObject({ phase: 'Succeeded', jobId: 'job-1' });
    expect(starts()).toHaveLength(3);
    expect(starts().every((l) => l.includes('secret=the-callback-secret') && l.endsWith('db='))).toBe(true);
    delete process.env.DATABASE_URL;
  });

  it('retries a step only while it exits 75, and fails on a permanent exit without retrying', async () => {
    const sut = engine({ '0': [75, 75, 0], '1': [65] });
    const done = finished(sut);
    await sut.submit(request(2));
    const status = await done;
    expect(status.phase).toBe('Failed');
    expect(status.message).toBe('step 1 exited with 65');
    expect(starts().filter((l) => l.startsWith('0 '))).toHaveLength(3);
    expect(starts().filter((l) => l.startsWith('1 '))).toHaveLength(1);
  });

  it('fails the workflow at its deadline without reporting it as a cancel', async () => {
    const sut = engine({ '0': ['sleep'], '1': ['sleep'], '2': [0] }, { concurrency: 1 });
    const done = finished(sut);
    await sut.submit({ ...request(3, 1), parallelism: 1 });
    const status = await done;
    expect(status).toMatchObject({
      phase: 'Failed',
      message: expect.stringContaining('exceeded the deadline of 1 s'),
    });
    expect(status.stopping).toBeUndefined();
    expect(starts()).toHaveLength(1);
  });

  it('cancel ends the running steps, starts no more, and reports stopping', async () => {
    const sut = engine({ '0': ['sleep'], '1': ['sleep'], '2': [0] }, { concurrency: 1 });
    const done = finished(sut);
    await sut.submit({ ...request(3), parallelism: 1 });
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    await sut.cancel('job-1');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await done).toMatchObject({ phase: 'Failed', stopping: true, message: 'Stopped' });
    expect(starts()).toHaveLength(1);
  });

  it('submits a job once, and answers for it', async () => {
    const sut = engine({});
    const done = finished(sut);
    const first = await sut.submit(request(1));
    const second = await sut.submit(request(1));
    expect(second).toEqual(first);
    await done;
    expect(await sut.status('job-1')).toMatchObject({ phase: 'Succeeded' });
    expect(await sut.status('other')).toBeUndefined();
    expect(starts()).toHaveLength(1);
  });
});
