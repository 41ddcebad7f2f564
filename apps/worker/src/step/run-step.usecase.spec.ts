import { WorkerExitCode, type JobEvent, type JobManifest } from '@docflow/contracts';
import { createLogger } from '@docflow/observability';
import { ObjectTooLargeError } from '@docflow/storage';
import { makePdf } from '../extract/fixtures';
import { RunStepUseCase } from './run-step.usecase';
import { StepError } from './step-error';
import type { Transformer } from './transformer';

class MemoryStorage {
  readonly bucket = 'docflow';
  readonly objects = new Map<string, Buffer>();
  /** Keys whose next read fails like a network hiccup. */
  readonly failOnce = new Set<string>();
  async getBytes(key: string, maxBytes: number) {
    if (this.failOnce.delete(key)) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    const value = this.objects.get(key);
    if (value && value.length > maxBytes) throw new ObjectTooLargeError(key, value.length, maxBytes);
    return value;
  }
  async getStream(key: string) {
    const value = this.objects.get(key);
    if (!value) return undefined;
    async function* body() {
      for (let i = 0; i < value!.length; i += 65536) yield value!.subarray(i, i + 65536);
    }
    return { size: value.length, body: body() };
  }
  async put(key: string, body: Buffer | string) {
    this.objects.set(key, Buffer.from(body));
  }
  async head(key: string) {
    const value = this.objects.get(key);
    return value ? { size: value.length } : undefined;
  }
}

const echo: Transformer = {
  reducible: true,
  async transform(input, onProgress) {
    onProgress(1, 2, 'map');
    onProgress(2, 2, 'reduce');
    return {
      output: `# Summary of ${input.name}\n\n${input.text.slice(0, 40)}`,
      agentsRun: ['summarizer'],
      models: ['offline/extractive'],
      usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
      calls: 2,
      durationMs: 1,
      costEstimateUsd: 0,
    };
  },
};

function manifest(overrides: Partial<JobManifest> = {}): JobManifest {
  return {
    version: 1,
    jobId: 'job-1',
    userId: 'user-1',
    crew: 'summarize',
    params: {},
    strategy: 'individual',
    model: { provider: 'offline', model: 'extractive' },
    documents: [
      { docId: 'd1', name: 'a.txt', contentType: 'text/plain', size: 11, key: 'users/user-1/docs/d1/a.txt' },
      {
        docId: 'd2',
        name: 'b.pdf',
        contentType: 'application/pdf',
        size: 0,
        key: 'users/user-1/docs/d2/b.pdf',
      },
      { docId: 'd3', name: 'c.bin', contentType: 'text/plain', size: 4, key: 'users/user-1/docs/d3/c.bin' },
    ],
    chunks: [
      {
        index: 0,
        inputs: [
          { inputId: 'd1', docIds: ['d1'] },
          { inputId: 'd2', docIds: ['d2'] },
        ],
      },
      { index: 1, inputs: [{ inputId: 'd3', docIds: ['d3'] }] },
    ],
    outputPrefix: 'users/user-1/jobs/job-1/outputs/',
    limits: { maxDocumentBytes: 1_000_000, chunkTokens: 3000, modelConcurrency: 4 },
    ...overrides,
  };
}

describe(RunStepUseCase.name, () => {
  let storage: MemoryStorage;
  let events: JobEvent[];
  const logger = createLogger({ service: 'worker-test', level: 'silent' });

  function sut(
    transformer: Transformer = echo,
    m: JobManifest = manifest(),
    send: (e: JobEvent) => Promise<boolean> = async (e) => (events.push(e), true),
  ) {
    storage.objects.set('users/user-1/jobs/job-1/manifest.json', Buffer.from(JSON.stringify(m)));
    return new RunStepUseCase({
      storage,
      callbacks: { send },
      transformerFor: () => transformer,
      logger,
      clock: () => new Date('2026-11-23T10:00:00Z'),
    });
  }
  const run = (s: RunStepUseCase, chunk = 0) =>
    s.execute({ jobId: 'job-1', manifestUri: 's3://docflow/users/user-1/jobs/job-1/manifest.json', chunk });

  beforeEach(() => {
    storage = new MemoryStorage();
    events = [];
    storage.objects.set('users/user-1/docs/d1/a.txt', Buffer.from('hello world'));
    storage.objects.set('users/user-1/docs/d2/b.pdf', makePdf(['A PDF page.']));
    storage.objects.set('users/user-1/docs/d3/c.bin', Buffer.from([0, 1, 2, 3]));
  });

  it('runs extract → transform → load per input, writes Markdown and a sidecar, reports in order', async () => {
    const out = await run(sut());
    expect(out).toEqual({ exitCode: WorkerExitCode.OK, completed: ['d1', 'd2'], failed: [], skipped: [] });
    expect(storage.objects.get('users/user-1/jobs/job-1/outputs/d1.md')!.toString()).toBe(
      '# Summary of a.txt\n\nhello world\n',
    );
    const sidecar = JSON.parse(storage.objects.get('users/user-1/jobs/job-1/outputs/d2.json')!.toString());
    expect(sidecar).toMatchObject({
      jobId: 'job-1',
      inputId: 'd2',
      sources: [{ docId: 'd2', name: 'b.pdf', format: 'pdf' }],
      agentsRun: ['summarizer'],
      models: ['offline/extractive'],
      usage: { totalTokens: 15 },
      costEstimateUsd: 0,
      durationsMs: {
        extract: expect.any(Number),
        transform: expect.any(Number),
        load: expect.any(Number),
        total: expect.any(Number),
      },
    });
    for (const inputId of ['d1', 'd2']) {
      const mine = events
        .filter((e) => e.inputId === inputId)
        .map((e) => [e.type, e.stage, e.progress].filter((x) => x !== undefined).join(' '));
      expect(mine.filter((e) => !e.startsWith('stage_progress'))).toEqual([
        'stage_started extract',
        'stage_completed extract',
        'stage_started transform',
        'stage_completed transform',
        'stage_started load',
        'stage_completed load',
        'doc_completed',
      ]);
      // Progress (50 then 100; one superseded by the next while still queued is not sent) sits inside transform.
      const progress = mine.filter((e) => e.startsWith('stage_progress'));
      expect(['stage_progress transform 50', 'stage_progress transform 100']).toEqual(
        expect.arrayContaining(progress),
      );
      expect(progress).toEqual(
        [...progress].sort((a, b) => Number(a.split(' ')[2]) - Number(b.split(' ')[2])),
      );
      const at = (name: string) => mine.indexOf(name);
      for (const p of progress) {
        expect(at(p)).toBeGreaterThan(at('stage_started transform'));
        expect(at(p)).toBeLessThan(at('stage_completed transform'));
      }
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  describe('callbacks', () => {
    /** A `send` that records each event and answers those matching `hold` only when the test says so. */
    function heldSend(hold: (e: JobEvent) => boolean = () => true) {
      const answers: ((delivered: boolean) => void)[] = [];
      let answerAll: boolean | undefined;
      const send = (e: JobEvent) =>
        new Promise<boolean>((resolve) => {
          events.push(e);
          if (answerAll !== undefined) resolve(answerAll);
          else if (!hold(e)) resolve(true);
          else answers.push(resolve);
        });
      const release = (delivered = true) => {
        answerAll = delivered;
        for (const answer of answers.splice(0)) answer(delivered);
      };
      return { send, release };
    }
    /** Polls (without sleeping) until `condition` holds. */
    async function until(condition: () => boolean) {
      for (let i = 0; i < 10_000 && !condition(); i++) await new Promise((r) => setImmediate(r));
      expect(condition()).toBe(true);
    }
    const lastOf = (inputId: string) => {
      const e = events.filter((x) => x.inputId === inputId).at(-1);
      return e && [e.type, e.stage].filter(Boolean).join(' ');
    };

    it('goes on with the work while callbacks are unanswered, and returns only once each was answered', async () => {
      // Everything from the end of transform on is left unanswered.
      const { send, release } = heldSend(
        (e) => !(e.stage === 'extract' || (e.type === 'stage_started' && e.stage === 'transform')),
      );
      let returned = false;
      const running = run(sut(echo, manifest(), send)).then((out) => ((returned = true), out));
      // Both inputs are written although their first event after transform has not been answered.
      await until(
        () =>
          storage.objects.has('users/user-1/jobs/job-1/outputs/d1.json') &&
          storage.objects.has('users/user-1/jobs/job-1/outputs/d2.json'),
      );
      expect(lastOf('d1')).not.toBe('doc_completed');
      expect(lastOf('d2')).not.toBe('doc_completed');
      await new Promise((r) => setImmediate(r));
      expect(returned).toBe(false);

      release();
      const out = await running;
      expect(out).toEqual({ exitCode: WorkerExitCode.OK, completed: ['d1', 'd2'], failed: [], skipped: [] });
      expect(lastOf('d1')).toBe('doc_completed');
      expect(lastOf('d2')).toBe('doc_completed');
    });

    it("starts an input's transform only once its stage_started transform was answered", async () => {
      const { send, release } = heldSend((e) => e.type === 'stage_started' && e.stage === 'transform');
      const transformed: string[] = [];
      const recorder: Transformer = {
        reducible: true,
        transform: async (i, p, s) => (transformed.push(i.name), echo.transform(i, p, s)),
      };
      const running = run(sut(recorder, manifest(), send));
      await until(
        () => lastOf('d1') === 'stage_started transform' && lastOf('d2') === 'stage_started transform',
      );
      for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
      expect(transformed).toEqual([]);
      release();
      expect((await running).exitCode).toBe(WorkerExitCode.OK);
      expect(transformed.sort()).toEqual(['a.txt', 'b.pdf']);
    });

    it.each([
      ['retryable', WorkerExitCode.RETRYABLE],
      ['permanent', WorkerExitCode.PERMANENT],
    ] as const)('delivers a %s failure before it returns the exit code %s', async (kind, exitCode) => {
      const { send, release } = heldSend((e) => e.type === 'doc_failed');
      const failing: Transformer = {
        reducible: true,
        transform: async () => {
          throw new StepError(kind, `model said no (${kind})`);
        },
      };
      let returned = false;
      const running = run(sut(failing, manifest(), send)).then((out) => ((returned = true), out));
      await until(() => events.filter((e) => e.type === 'doc_failed').length === 2);
      await new Promise((r) => setImmediate(r));
      expect(returned).toBe(false);

      release();
      const out = await running;
      expect(out.exitCode).toBe(exitCode);
      expect(out.failed.map((f) => f.inputId)).toEqual(['d1', 'd2']);
      for (const inputId of ['d1', 'd2'])
        expect(events.filter((e) => e.inputId === inputId).at(-1)).toMatchObject({
          type: 'doc_failed',
          stage: 'transform',
          error: { kind, message: `model said no (${kind})` },
        });
    });

    it('keeps the exit code of the work when callbacks are given up on (the jobs service reconciles)', async () => {
      const { send, release } = heldSend();
      release(false);
      const out = await run(sut(echo, manifest(), send));
      expect(out).toEqual({ exitCode: WorkerExitCode.OK, completed: ['d1', 'd2'], failed: [], skipped: [] });
      expect(events.filter((e) => e.type === 'doc_completed')).toHaveLength(2);
    });
  });

  it('skips inputs finished by an earlier run, repeating their events with the same ids', async () => {
    await run(sut());
    const first = events.map((e) => e.id);
    const transformed: string[] = [];
    events = [];
    const out = await run(
      sut({
        reducible: true,
        transform: async (i, p, s) => (transformed.push(i.name), echo.transform(i, p, s)),
      }),
    );
    expect(out).toMatchObject({ exitCode: 0, completed: [], skipped: ['d1', 'd2'] });
    expect(transformed).toEqual([]);
    expect(events.map((e) => e.type)).toEqual(['doc_completed', 'doc_completed']);
    expect(events.every((e) => first.includes(e.id))).toBe(true);
  });

  it('redoes an input whose Markdown was written but whose sidecar was not (a crash in between)', async () => {
    storage.objects.set('users/user-1/jobs/job-1/outputs/d1.md', Buffer.from('stale'));
    const out = await run(sut());
    expect(out.completed).toEqual(['d1', 'd2']);
    expect(storage.objects.get('users/user-1/jobs/job-1/outputs/d1.md')!.toString()).toContain('Summary');
    expect([...storage.objects.keys()].filter((k) => k.includes('/outputs/')).sort()).toEqual([
      'users/user-1/jobs/job-1/outputs/d1.json',
      'users/user-1/jobs/job-1/outputs/d1.md',
      'users/user-1/jobs/job-1/outputs/d2.json',
      'users/user-1/jobs/job-1/outputs/d2.md',
    ]);
  });

  it('fails a binary input permanently with a clear message and exits PERMANENT', async () => {
    const out = await run(sut(), 1);
    expect(out).toEqual({
      exitCode: WorkerExitCode.PERMANENT,
      completed: [],
      skipped: [],
      failed: [{ inputId: 'd3', kind: 'permanent', message: 'c.bin looks binary, not text' }],
    });
    expect(events.at(-1)).toMatchObject({
      type: 'doc_failed',
      stage: 'extract',
      error: { kind: 'permanent', message: 'c.bin looks binary, not text' },
    });
  });

  it('exits RETRYABLE when storage hiccups, and a rerun finishes the work', async () => {
    const s = sut();
    storage.failOnce.add('users/user-1/docs/d1/a.txt');
    const first = await run(s);
    expect(first).toMatchObject({
      exitCode: WorkerExitCode.RETRYABLE,
      completed: ['d2'],
      failed: [{ inputId: 'd1', kind: 'retryable' }],
    });
    const second = await run(s);
    expect(second.exitCode).toBe(WorkerExitCode.OK);
    expect(second).toMatchObject({ completed: ['d1'], skipped: ['d2'] });
  });

  it('exits RETRYABLE when the model fails transiently, PERMANENT when it fails for good', async () => {
    const failing = (kind: 'retryable' | 'permanent'): Transformer => ({
      reducible: true,
      transform: async () => {
        throw new StepError(kind, `model said no (${kind})`);
      },
    });
    expect((await run(sut(failing('retryable')))).exitCode).toBe(WorkerExitCode.RETRYABLE);
    expect((await run(sut(failing('permanent')))).exitCode).toBe(WorkerExitCode.PERMANENT);
  });

  it.each([
    [
      'a missing manifest',
      (s: MemoryStorage) => s.objects.delete('users/user-1/jobs/job-1/manifest.json'),
      'does not exist',
    ],
    [
      'a manifest that is not JSON',
      (s: MemoryStorage) => s.objects.set('users/user-1/jobs/job-1/manifest.json', Buffer.from('{')),
      'not valid JSON',
    ],
    [
      'a manifest missing fields',
      (s: MemoryStorage) =>
        s.objects.set('users/user-1/jobs/job-1/manifest.json', Buffer.from('{"version":1}')),
      'jobId',
    ],
  ])('fails permanently on %s', async (_label, breakIt, message) => {
    const s = sut();
    breakIt(storage);
    const out = await s.execute({
      jobId: 'job-1',
      manifestUri: 's3://docflow/users/user-1/jobs/job-1/manifest.json',
      chunk: 0,
    });
    expect(out.exitCode).toBe(WorkerExitCode.PERMANENT);
    expect(out.failed[0]!.message).toContain(message);
  });

  it('refuses a manifest whose outputs would land outside the job', async () => {
    const out = await run(sut(echo, manifest({ outputPrefix: 'users/someone-else/' })));
    expect(out.exitCode).toBe(WorkerExitCode.PERMANENT);
    expect(out.failed[0]!.message).toBe('outputPrefix must be users/user-1/jobs/job-1/outputs/');
    expect([...storage.objects.keys()].some((k) => k.startsWith('users/someone-else/'))).toBe(false);
  });

  it("writes a team's job under the team's outputs, and only there", async () => {
    const team = manifest({ teamId: 'team-1', outputPrefix: 'teams/team-1/jobs/job-1/outputs/' });
    const ok = await run(sut(echo, team));
    expect(ok.exitCode).toBe(WorkerExitCode.OK);
    expect([...storage.objects.keys()].some((k) => k.startsWith('teams/team-1/jobs/job-1/outputs/'))).toBe(
      true,
    );
    const member = await run(sut(echo, manifest({ teamId: 'team-1' })));
    expect(member.failed[0]!.message).toBe('outputPrefix must be teams/team-1/jobs/job-1/outputs/');
  });

  it('refuses a chunk the manifest does not have, and a manifest of another job', async () => {
    expect((await run(sut(), 7)).failed[0]!.message).toBe('the manifest has no chunk 7');
    const other = await sut().execute({
      jobId: 'job-2',
      manifestUri: 's3://docflow/users/user-1/jobs/job-1/manifest.json',
      chunk: 0,
    });
    expect(other.failed[0]!.message).toBe('the manifest is for job job-1, not job-2');
  });

  it('fails inputs over the size limit permanently: by declared size, and by actual size when the declaration lies', async () => {
    const m = manifest({ limits: { maxDocumentBytes: 5, chunkTokens: 3000, modelConcurrency: 4 } });
    const out = await run(sut(echo, m));
    expect(out.failed.map((f) => f.message)).toEqual([
      'a.txt is 11 bytes, over the limit of 5',
      expect.stringMatching(/b\.pdf is larger than 5 bytes$/),
    ]);
    expect(out.exitCode).toBe(WorkerExitCode.PERMANENT);
  });

  describe('a text document over 8 MiB', () => {
    const big = () => {
      const paragraph = 'Revenue grew in every region this quarter. '.repeat(20) + '\n\n';
      return Buffer.from(paragraph.repeat(Math.ceil((9 * 1024 * 1024) / paragraph.length)));
    };
    const bigManifest = () =>
      manifest({
        documents: [
          {
            docId: 'd9',
            name: 'huge.txt',
            contentType: 'text/plain',
            size: big().length,
            key: 'users/user-1/docs/d9/huge.txt',
          },
        ],
        chunks: [{ index: 0, inputs: [{ inputId: 'd9', docIds: ['d9'] }] }],
        limits: { maxDocumentBytes: 100 * 1024 * 1024, chunkTokens: 3000, modelConcurrency: 4 },
      });

    it('is streamed in pieces through a map-reduce crew, then reduced once more', async () => {
      storage.objects.set('users/user-1/docs/d9/huge.txt', big());
      const seen: number[] = [];
      const recorder: Transformer = {
        reducible: true,
        async transform(input, onProgress, signal) {
          seen.push(input.text.length);
          return echo.transform(input, onProgress, signal);
        },
      };
      const out = await run(sut(recorder, bigManifest()));
      expect(out).toMatchObject({ exitCode: 0, completed: ['d9'] });
      // 9 MiB in pieces of at most 1,000,000 characters, then the merge run
      expect(seen.length).toBe(11);
      expect(seen.slice(0, -1).every((n) => n <= 1_000_000)).toBe(true);
      const sidecar = JSON.parse(storage.objects.get('users/user-1/jobs/job-1/outputs/d9.json')!.toString());
      expect(sidecar.usage.totalTokens).toBe(15 * 11);
      expect(sidecar.modelCalls).toBe(2 * 11);
    });

    it('fails permanently with a clear message when the crew cannot reduce', async () => {
      storage.objects.set('users/user-1/docs/d9/huge.txt', big());
      const out = await run(sut({ ...echo, reducible: false }, bigManifest()));
      expect(out.exitCode).toBe(WorkerExitCode.PERMANENT);
      expect(out.failed[0]!.message).toMatch(
        /^huge\.txt is \d+ bytes; text over 8388608 bytes can only be run by a map-reduce crew/,
      );
    });
  });
});
