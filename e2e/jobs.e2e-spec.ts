import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { signCallback } from '@docflow/contracts';
import { waitFor } from '@docflow/local-platform';
import { adminHeaders, json, startPlatform, type RunningPlatform } from './platform';
import { readEvents } from './sse';

const TEXT = (n: number) =>
  `# Report ${n}\n\n` +
  Array.from(
    { length: 30 },
    (_, i) =>
      `Finding ${i} of report ${n}: revenue in region ${i % 7} grew by ${i + n} percent this quarter.`,
  ).join('\n');

/** `paragraphs` paragraphs of report text: about 400 bytes each, seconds of work for the offline model in the thousands. */
const bigText = (paragraphs: number) =>
  Array.from({ length: paragraphs }, (_, i) => `Paragraph ${i}: ${TEXT(i).slice(0, 400)}`).join('\n\n');

describe('jobs on the local platform', () => {
  let platform: RunningPlatform;
  let userId: string;

  beforeAll(async () => {
    platform = await startPlatform('jobs');
    userId = await newUser();
  });

  const afterTest: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (let cleanup = afterTest.pop(); cleanup; cleanup = afterTest.pop()) await cleanup();
  });

  afterAll(async () => {
    await platform?.stop();
  });

  async function newUser(): Promise<string> {
    const res = await json<{ id: string }>(`${platform.api}/users`, {
      method: 'POST',
      body: { name: 'J', email: `j-${randomUUID()}@example.com` },
    });
    return res.body.id;
  }

  async function upload(owner: string, name: string, text: string, put = true): Promise<string> {
    const bytes = Buffer.from(text);
    const doc = await json<{ id: string; upload: { url: string; headers: Record<string, string> } }>(
      `${platform.api}/users/${owner}/docs`,
      {
        method: 'POST',
        body: { name, contentType: 'text/plain', size: bytes.length },
      },
    );
    if (put) {
      await fetch(doc.body.upload.url, {
        method: 'PUT',
        headers: { 'Content-Type': 'text/plain' },
        body: bytes,
      });
      await waitFor(
        async () =>
          (await json<{ status: string }>(`${platform.api}/users/${owner}/docs/${doc.body.id}`)).body
            .status === 'uploaded',
      );
    }
    return doc.body.id;
  }

  const TERMINAL = new Set(['job_completed', 'job_failed', 'job_cancelled']);

  it('runs a job over three documents: stages arrive in order over SSE, the job completes, the outputs download', async () => {
    const docIds = [
      await upload(userId, 'a.txt', TEXT(1)),
      await upload(userId, 'b.txt', TEXT(2)),
      await upload(userId, 'c.txt', TEXT(3)),
    ];
    const created = await json<{ id: string; status: string }>(`${platform.api}/users/${userId}/jobs`, {
      method: 'POST',
      body: { docIds },
    });
    expect(created.status).toBe(202);
    expect(['queued', 'submitted', 'running']).toContain(created.body.status);

    const events = await readEvents(`${platform.api}/users/${userId}/jobs/${created.body.id}/events`, (e) =>
      TERMINAL.has(e.event),
    );
    expect(events.every((e) => Number.isInteger(e.id) && e.id > 0)).toBe(true);
    expect(events[0]!.event).toBe('job_started');
    expect(events.at(-1)).toMatchObject({
      event: 'job_completed',
      data: { status: 'completed', progress: 100 },
    });
    for (const docId of docIds) {
      const mine = events
        .filter((e) => e.data.inputId === docId)
        .map((e) => `${e.event}${e.data.stage ? ` ${String(e.data.stage)}` : ''}`);
      const order = [
        'stage_started extract',
        'stage_completed extract',
        'stage_started transform',
        'stage_completed transform',
        'stage_started load',
        'stage_completed load',
        'doc_completed',
      ];
      expect(mine.filter((m) => order.includes(m))).toEqual(order);
    }

    const job = await json<{
      status: string;
      progress: number;
      outputDocIds: string[];
      documents: { status: string }[];
      usage: { totalTokens: number };
      finishedAt: string;
    }>(`${platform.api}/users/${userId}/jobs/${created.body.id}`);
    expect(job.body).toMatchObject({ status: 'completed', progress: 100, finishedAt: expect.any(String) });
    expect(job.body.documents.map((d) => d.status)).toEqual(['completed', 'completed', 'completed']);
    expect(job.body.usage.totalTokens).toBeGreaterThan(0);
    expect(job.body.outputDocIds).toHaveLength(3);
    for (const outputId of job.body.outputDocIds) {
      const output = await json<{
        kind: string;
        jobId: string;
        sourceDocIds: string[];
        download: { url: string };
      }>(`${platform.api}/users/${userId}/docs/${outputId}`);
      expect(output.body).toMatchObject({ kind: 'output', jobId: created.body.id });
      expect(docIds).toContain(output.body.sourceDocIds[0]);
      const text = await (await fetch(output.body.download.url)).text();
      expect(text).toContain('## Summary');
      expect(text).toMatch(/revenue in region/);
    }

    // A late subscriber gets the whole history; one that resumes with Last-Event-ID gets exactly the rest.
    const replay = await readEvents(`${platform.api}/users/${userId}/jobs/${created.body.id}/events`, (e) =>
      TERMINAL.has(e.event),
    );
    expect(replay.map((e) => e.id)).toEqual(events.map((e) => e.id));
    const cut = events[4]!.id;
    const rest = await readEvents(
      `${platform.api}/users/${userId}/jobs/${created.body.id}/events`,
      (e) => TERMINAL.has(e.event),
      { 'last-event-id': String(cut) },
    );
    expect(rest.map((e) => e.id)).toEqual(events.filter((e) => e.id > cut).map((e) => e.id));

    // Reconnecting after the final event: 204, so an EventSource stops instead of reconnecting forever.
    const after = await fetch(`${platform.api}/users/${userId}/jobs/${created.body.id}/events`, {
      headers: { 'last-event-id': String(events.at(-1)!.id), ...adminHeaders() },
    });
    expect(after.status).toBe(204);

    // Cancelling a finished job changes nothing.
    expect(
      (await json(`${platform.api}/users/${userId}/jobs/${created.body.id}`, { method: 'DELETE' })).status,
    ).toBe(409);
  });

  it('gives the same job for the same Idempotency-Key', async () => {
    const docId = await upload(userId, 'idem.txt', TEXT(9));
    const headers = { 'idempotency-key': `key-${randomUUID()}` };
    const first = await json<{ id: string }>(`${platform.api}/users/${userId}/jobs`, {
      method: 'POST',
      body: { docIds: [docId] },
      headers,
    });
    const second = await json<{ id: string }>(`${platform.api}/users/${userId}/jobs`, {
      method: 'POST',
      body: { docIds: [docId] },
      headers,
    });
    expect(first.status).toBe(202);
    expect(second.body.id).toBe(first.body.id);
    const list = await json<{ items: { id: string }[] }>(`${platform.api}/users/${userId}/jobs?limit=100`);
    expect(list.body.items.filter((j) => j.id === first.body.id)).toHaveLength(1);
  });

  it('refuses the same Idempotency-Key with other parameters (422) and creates no job; the same request still gets the job', async () => {
    const docId = await upload(userId, 'idem-a.txt', TEXT(13));
    const otherDoc = await upload(userId, 'idem-b.txt', TEXT(14));
    const headers = { 'idempotency-key': `key-${randomUUID()}` };
    const post = (body: Record<string, unknown>) =>
      json<{ id: string; error: { code: string; details: { field: string }[] } }>(
        `${platform.api}/users/${userId}/jobs`,
        { method: 'POST', body, headers },
      );
    const jobCount = async () =>
      (await json<{ items: unknown[] }>(`${platform.api}/users/${userId}/jobs?limit=100`)).body.items.length;
    const first = await post({ docIds: [docId] });
    expect(first.status).toBe(202);
    const before = await jobCount();
    for (const body of [
      { docIds: [otherDoc] },
      { docIds: [docId, otherDoc] },
      { docIds: [docId], strategy: 'combined' },
      { docIds: [docId], crew: 'translate', options: { params: { targetLanguage: 'de' } } },
    ]) {
      const reused = await post(body);
      expect({ body, status: reused.status, code: reused.body.error?.code }).toEqual({
        body,
        status: 422,
        code: 'IDEMPOTENCY_KEY_REUSED',
      });
      expect(reused.body.error.details.map((d) => d.field)).toEqual(['Idempotency-Key']);
    }
    // The same request, written differently (the defaults spelled out), is the same job.
    const again = await post({ docIds: [docId], crew: 'summarize', strategy: 'individual' });
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(await jobCount()).toBe(before);
  });

  it('runs an object job in consecutive groups of options.batchSize, and the list finds it by its filters', async () => {
    const docIds: string[] = [];
    for (let n = 0; n < 5; n++) docIds.push(await upload(userId, `obj-${n}.txt`, TEXT(20 + n)));
    const created = await json<{ id: string; batchSize: number; inputCount: number; createdAt: string }>(
      `${platform.api}/users/${userId}/jobs`,
      { method: 'POST', body: { docIds, strategy: 'object', options: { batchSize: 2 } } },
    );
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ batchSize: 2, inputCount: 3 });
    const events = await readEvents(`${platform.api}/users/${userId}/jobs/${created.body.id}/events`, (e) =>
      TERMINAL.has(e.event),
    );
    expect(events.at(-1)).toMatchObject({ event: 'job_completed', data: { status: 'completed' } });
    // In request order, two by two, the last one holding the rest: one crew run and one output each.
    const inputs = await json<{ items: { inputId: string; docIds: string[]; outputDocId?: string }[] }>(
      `${platform.api}/users/${userId}/jobs/${created.body.id}/inputs`,
    );
    expect(inputs.body.items.map((i) => [i.inputId, i.docIds])).toEqual([
      ['batch-0', docIds.slice(0, 2)],
      ['batch-1', docIds.slice(2, 4)],
      ['batch-2', docIds.slice(4)],
    ]);
    expect(inputs.body.items.every((i) => i.outputDocId)).toBe(true);
    const batched = await json(`${platform.api}/users/${userId}/jobs`, {
      method: 'POST',
      body: { docIds, options: { batchSize: 2 } },
    });
    expect([
      batched.status,
      (batched.body as { error: { details: { field: string }[] } }).error.details,
    ]).toEqual([400, [{ field: 'options.batchSize', message: 'is only allowed with strategy object' }]]);

    // Filters, with each other (AND) and with paging.
    const list = (query: string) =>
      json<{ items: { id: string }[]; nextCursor?: string; error?: { details: { field: string }[] } }>(
        `${platform.api}/users/${userId}/jobs?${query}`,
      );
    const at = encodeURIComponent(created.body.createdAt);
    const found = await list(
      `docId=${docIds[3]}&strategy=object&crew=summarize&status=running,completed&createdAfter=${at}&limit=1`,
    );
    expect([found.status, found.body.items.map((j) => j.id), found.body.nextCursor]).toEqual([
      200,
      [created.body.id],
      undefined,
    ]);
    for (const query of [
      `docId=${docIds[3]}&strategy=individual`,
      `docId=${docIds[3]}&status=failed,cancelled`,
      `docId=${docIds[3]}&createdBefore=${at}`,
      `docId=${randomUUID()}`,
    ])
      expect([query, (await list(query)).body.items]).toEqual([query, []]);
    const bad = await list(`createdAfter=2026-02-30T00:00:00Z`);
    expect([bad.status, bad.body.error?.details.map((d) => d.field)]).toEqual([400, ['createdAfter']]);
  });

  it('cancels a running job: its steps stop and it ends cancelled', async () => {
    // About 6 MB: several seconds of work for the offline model on this machine.
    const big = bigText(15_000);
    const docId = await upload(userId, 'big.txt', big);
    const created = await json<{ id: string }>(`${platform.api}/users/${userId}/jobs`, {
      method: 'POST',
      body: { docIds: [docId] },
    });
    const jobId = created.body.id;
    await readEvents(
      `${platform.api}/users/${userId}/jobs/${jobId}/events`,
      (e) => e.event === 'stage_started' && e.data.stage === 'transform',
    );
    const pattern = `worker/dist/main.js run --job ${jobId}`;
    const running = () => {
      try {
        return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim();
      } catch {
        return '';
      }
    };
    expect(running()).not.toBe('');
    const cancelled = await json<{ status: string; documents: { status: string }[] }>(
      `${platform.api}/users/${userId}/jobs/${jobId}`,
      { method: 'DELETE' },
    );
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(cancelled.body.documents.map((d) => d.status)).toEqual(['cancelled']);
    await waitFor(() => running() === '', { description: 'no step process left' });
    const events = await readEvents(`${platform.api}/users/${userId}/jobs/${jobId}/events`, (e) =>
      TERMINAL.has(e.event),
    );
    expect(events.at(-1)!.event).toBe('job_cancelled');
    expect(
      (await json<{ status: string }>(`${platform.api}/users/${userId}/jobs/${jobId}`)).body.status,
    ).toBe('cancelled');
  });

  it('refuses a forged callback with 401, and leaves the job alone', async () => {
    const docId = await upload(userId, 'cb.txt', TEXT(5));
    const created = await json<{ id: string }>(`${platform.api}/users/${userId}/jobs`, {
      method: 'POST',
      body: { docIds: [docId] },
    });
    const body = JSON.stringify({
      id: 'forged-1',
      jobId: created.body.id,
      type: 'doc_failed',
      at: new Date().toISOString(),
      inputId: docId,
    });
    const ts = Math.floor(Date.now() / 1000);
    const attempts: Record<string, string>[] = [
      {},
      { 'x-docflow-timestamp': String(ts), 'x-docflow-signature': signCallback('not-the-secret', ts, body) },
      {
        'x-docflow-timestamp': String(ts - 3600),
        'x-docflow-signature': signCallback('not-the-secret', ts - 3600, body),
      },
    ];
    for (const headers of attempts) {
      const res = await json<{ error: { code: string } }>(
        `${platform.privateApi}/webhooks/jobs/${created.body.id}/events`,
        {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', ...headers },
        },
      );
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHENTICATED');
    }
    await readEvents(`${platform.api}/users/${userId}/jobs/${created.body.id}/events`, (e) =>
      TERMINAL.has(e.event),
    );
    expect(
      (await json<{ status: string }>(`${platform.api}/users/${userId}/jobs/${created.body.id}`)).body.status,
    ).toBe('completed');
  });

  it('drops a repeated callback: the second answers duplicate, one event is stored and one streamed', async () => {
    // About 1.2 MB: the step is busy for seconds, so the job is still running when the callbacks arrive.
    const big = bigText(3_000);
    const docId = await upload(userId, 'repeat.txt', big);
    const created = await json<{ id: string }>(`${platform.api}/users/${userId}/jobs`, {
      method: 'POST',
      body: { docIds: [docId] },
    });
    const jobId = created.body.id;
    const eventsUrl = `${platform.api}/users/${userId}/jobs/${jobId}/events`;
    await readEvents(eventsUrl, (e) => e.event === 'stage_started' && e.data.stage === 'transform');
    const client = new Client({ connectionString: platform.databaseUrl });
    await client.connect();
    afterTest.push(() => client.end());
    const secret = (await client.query('SELECT callback_secret FROM jobs.jobs WHERE id = $1', [jobId]))
      .rows[0].callback_secret as string;
    const eventId = `${jobId}:0:${docId}:stage_progress:transform:repeated`;
    const body = JSON.stringify({
      id: eventId,
      jobId,
      type: 'stage_progress',
      at: new Date().toISOString(),
      chunk: 0,
      inputId: docId,
      docIds: [docId],
      stage: 'transform',
      progress: 5,
    });
    const ts = Math.floor(Date.now() / 1000);
    // The same signed request twice, as a step's retry after a lost answer sends it.
    const send = () =>
      json<{ accepted: boolean; duplicate: boolean }>(
        `${platform.privateApi}/webhooks/jobs/${jobId}/events`,
        {
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/json',
            'x-docflow-timestamp': String(ts),
            'x-docflow-signature': signCallback(secret, ts, body),
          },
        },
      );
    const first = await send();
    const second = await send();
    expect({ status: first.status, body: first.body }).toEqual({
      status: 200,
      body: { accepted: true, duplicate: false },
    });
    expect({ status: second.status, body: second.body }).toEqual({
      status: 200,
      body: { accepted: true, duplicate: true },
    });

    const events = await readEvents(eventsUrl, (e) => TERMINAL.has(e.event));
    expect(events.at(-1)!.event).toBe('job_completed');
    expect(events.filter((e) => e.data.id === eventId)).toHaveLength(1);
    const stored = await client.query(
      'SELECT pending FROM jobs.job_events WHERE job_id = $1 AND event_id = $2',
      [jobId, eventId],
    );
    expect(stored.rows).toEqual([{ pending: false }]);
  }, 120_000);

  it('survives a crash of the jobs service mid-job: restarted, the job finishes and no event is lost', async () => {
    // Two small documents and a ~2.5 MB one that keeps the step busy for seconds.
    const big = bigText(6_000);
    const docIds = [
      await upload(userId, 'crash-a.txt', TEXT(21)),
      await upload(userId, 'crash-big.txt', big),
      await upload(userId, 'crash-b.txt', TEXT(22)),
    ];
    const created = await json<{ id: string }>(`${platform.api}/users/${userId}/jobs`, {
      method: 'POST',
      body: { docIds },
    });
    expect(created.status).toBe(202);
    const jobId = created.body.id;
    const eventsUrl = `${platform.api}/users/${userId}/jobs/${jobId}/events`;
    await readEvents(
      eventsUrl,
      (e) => e.event === 'stage_started' && e.data.stage === 'transform' && e.data.inputId === docIds[1],
    );
    const pids = (pattern: string, parent?: number) => {
      try {
        return execFileSync('pgrep', [...(parent ? ['-P', String(parent)] : []), '-f', pattern], {
          encoding: 'utf8',
        })
          .trim()
          .split('\n')
          .filter(Boolean)
          .map(Number);
      } catch {
        return [];
      }
    };
    const steps = () => pids(`worker/dist/main.js run --job ${jobId}`);
    expect(steps()).not.toEqual([]);
    const [jobsPid] = pids('apps/jobs/dist/main.js', platform.launcher.pid);
    expect(jobsPid).toBeDefined();

    process.kill(jobsPid!, 'SIGKILL');
    await waitFor(() => !pids('apps/jobs/dist/main.js', platform.launcher.pid).includes(jobsPid!), {
      description: 'the jobs service to be gone',
    });
    // While it is down, a step's callback is kept for it (JetStream), not refused or lost.
    const client = new Client({ connectionString: platform.databaseUrl });
    client.on('error', () => undefined);
    await client.connect();
    afterTest.push(() => client.end().catch(() => undefined));
    const secret = (await client.query('SELECT callback_secret FROM jobs.jobs WHERE id = $1', [jobId]))
      .rows[0].callback_secret as string;
    const bufferedId = `${jobId}:0:${docIds[1]}:stage_progress:transform:while-down`;
    const body = JSON.stringify({
      id: bufferedId,
      jobId,
      type: 'stage_progress',
      at: new Date().toISOString(),
      chunk: 0,
      inputId: docIds[1],
      docIds: [docIds[1]],
      stage: 'transform',
      progress: 5,
    });
    const ts = Math.floor(Date.now() / 1000);
    const buffered = await json<{ accepted: boolean; buffered?: boolean }>(
      `${platform.privateApi}/webhooks/jobs/${jobId}/events`,
      {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'x-docflow-timestamp': String(ts),
          'x-docflow-signature': signCallback(secret, ts, body),
        },
      },
    );
    expect(buffered.status).toBe(202);
    expect(buffered.body).toMatchObject({ accepted: true, buffered: true });
    // The step lost its engine and stopped (the restarted service runs the chunk again).
    await waitFor(
      () => steps().length === 0 || pids('apps/jobs/dist/main.js', platform.launcher.pid).length > 0,
      {
        description: 'the orphaned step to stop',
      },
    );

    // The launcher restarts the service (as Kubernetes would restart its pod).
    await waitFor(async () => (await fetch(`${platform.health}/ready`)).status === 200, {
      timeoutMs: 30_000,
      description: 'the platform to be ready again',
    });
    const events = await readEvents(eventsUrl, (e) => TERMINAL.has(e.event));
    expect(events.at(-1)!.event).toBe('job_completed');
    expect(platform.output.join('\n')).toMatch(/jobs +exited with code .*; restarting/);
    const job = await json<{
      status: string;
      documents: { docId: string; status: string }[];
      outputDocIds: string[];
    }>(`${platform.api}/users/${userId}/jobs/${jobId}`);
    expect(job.body.status).toBe('completed');
    expect(job.body.documents.map((d) => d.status)).toEqual(['completed', 'completed', 'completed']);
    expect(job.body.outputDocIds).toHaveLength(3);

    // Every event the service recorded reached the stream, exactly once, the buffered one included.
    const stored = (
      await client.query<{ event_id: string; pending: boolean }>(
        'SELECT event_id, pending FROM jobs.job_events WHERE job_id = $1 ORDER BY seq',
        [jobId],
      )
    ).rows;
    expect(stored.filter((r) => r.pending)).toEqual([]);
    const streamed = events.filter((e) => e.event !== 'heartbeat').map((e) => String(e.data.id));
    expect(streamed.filter((id, i) => streamed.indexOf(id) !== i)).toEqual([]);
    expect([...streamed].sort()).toEqual(stored.map((r) => r.event_id).sort());
    expect(streamed).toContain(bufferedId);
    expect(streamed.indexOf(`${jobId}:job_started`)).toBe(0);
  }, 180_000);

  it("hides a user's real job from another user: GET, DELETE and the event stream answer 404", async () => {
    const docId = await upload(userId, 'private.txt', TEXT(11));
    const job = await json<{ id: string }>(`${platform.api}/users/${userId}/jobs`, {
      method: 'POST',
      body: { docIds: [docId] },
    });
    const other = await newUser();
    for (const [method, path] of [
      ['GET', ''],
      ['DELETE', ''],
      ['GET', '/events'],
    ] as const) {
      expect(
        (await json(`${platform.api}/users/${other}/jobs/${job.body.id}${path}`, { method })).status,
      ).toBe(404);
    }
    const theirs = await json<{ items: { id: string }[] }>(`${platform.api}/users/${other}/jobs`);
    expect(theirs.body.items).toEqual([]);
    // The refused DELETE changed nothing: for its owner the job was not cancelled and runs to its end.
    const after = await json<{ status: string; documents: { status: string }[] }>(
      `${platform.api}/users/${userId}/jobs/${job.body.id}`,
    );
    expect(after.status).toBe(200);
    expect(['queued', 'submitted', 'running', 'completed']).toContain(after.body.status);
    expect(after.body.documents.map((d) => d.status)).not.toContain('cancelled');
    const events = await readEvents(`${platform.api}/users/${userId}/jobs/${job.body.id}/events`, (e) =>
      TERMINAL.has(e.event),
    );
    expect(events.map((e) => e.event)).not.toContain('job_cancelled');
    expect(events.at(-1)!.event).toBe('job_completed');
    const final = await json<{ status: string; documents: { status: string }[] }>(
      `${platform.api}/users/${userId}/jobs/${job.body.id}`,
    );
    expect({ status: final.body.status, documents: final.body.documents.map((d) => d.status) }).toEqual({
      status: 'completed',
      documents: ['completed'],
    });
  });

  it("refuses correctly signed callbacks that a step may not send: job-level events, foreign ids, others' output keys", async () => {
    const docId = await upload(userId, 'signed.txt', TEXT(12));
    const job = await json<{ id: string }>(`${platform.api}/users/${userId}/jobs`, {
      method: 'POST',
      body: { docIds: [docId] },
    });
    const client = new Client({ connectionString: platform.databaseUrl });
    await client.connect();
    const secret = (await client.query('SELECT callback_secret FROM jobs.jobs WHERE id = $1', [job.body.id]))
      .rows[0].callback_secret as string;
    await client.end();
    const send = async (event: Record<string, unknown>) => {
      const body = JSON.stringify({ jobId: job.body.id, at: new Date().toISOString(), ...event });
      const ts = Math.floor(Date.now() / 1000);
      return json<{ error: { code: string; details: { field: string }[] } }>(
        `${platform.privateApi}/webhooks/jobs/${job.body.id}/events`,
        {
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/json',
            'x-docflow-timestamp': String(ts),
            'x-docflow-signature': signCallback(secret, ts, body),
          },
        },
      );
    };
    const cancelled = await send({ id: `${job.body.id}:x:job_cancelled`, type: 'job_cancelled' });
    expect(cancelled.status).toBe(400);
    expect(cancelled.body.error.details[0]!.field).toBe('type');
    const foreignId = await send({
      id: 'other-job:0:x:stage_started:extract',
      type: 'stage_started',
      stage: 'extract',
      inputId: docId,
    });
    expect(foreignId.body.error.details[0]!.field).toBe('id');
    const stolen = await send({
      id: `${job.body.id}:0:${docId}:doc_completed:forged`,
      type: 'doc_completed',
      inputId: docId,
      output: { markdownKey: `users/${userId}/docs/${docId}/signed.txt`, sidecarKey: 'x', bytes: 1 },
    });
    expect(stolen.status).toBe(400);
    expect(stolen.body.error.details[0]!.field).toBe('output.markdownKey');
    await readEvents(`${platform.api}/users/${userId}/jobs/${job.body.id}/events`, (e) =>
      TERMINAL.has(e.event),
    );
    const final = await json<{ status: string; outputDocIds: string[] }>(
      `${platform.api}/users/${userId}/jobs/${job.body.id}`,
    );
    expect(final.body.status).toBe('completed');
    expect(final.body.outputDocIds).toHaveLength(1);
  });

  it.each([
    ['no documents', () => ({ docIds: [] }), 400, 'docIds'],
    ['a malformed document id', () => ({ docIds: ['nope'] }), 400, 'docIds'],
    ['an unknown field', (d: string) => ({ docIds: [d], priority: 1 }), 400, 'priority'],
    ['an unknown crew', (d: string) => ({ docIds: [d], crew: 'poetry' }), 400, 'crew'],
    [
      'a missing crew parameter',
      (d: string) => ({ docIds: [d], crew: 'translate' }),
      400,
      'options.params.targetLanguage',
    ],
    ['a bad strategy', (d: string) => ({ docIds: [d], strategy: 'all' }), 400, 'strategy'],
    ['a flow (not available yet)', (d: string) => ({ docIds: [d], flowId: randomUUID() }), 400, 'flowId'],
  ])('refuses %s', async (_label, body, status, field) => {
    const docId = await upload(userId, 'x.txt', TEXT(7));
    const res = await json<{ error: { code: string; details?: { field: string }[] } }>(
      `${platform.api}/users/${userId}/jobs`,
      { method: 'POST', body: body(docId) },
    );
    expect(res.status).toBe(status);
    expect(res.body.error.details?.map((d) => d.field)).toContain(field);
  });

  it("refuses unknown, not-yet-uploaded and another user's documents", async () => {
    const unknown = await json<{ error: { code: string } }>(`${platform.api}/users/${userId}/jobs`, {
      method: 'POST',
      body: { docIds: [randomUUID()] },
    });
    expect(unknown.status).toBe(404);
    const pending = await upload(userId, 'pending.txt', TEXT(8), false);
    const notUploaded = await json<{ error: { details: { field: string }[] } }>(
      `${platform.api}/users/${userId}/jobs`,
      { method: 'POST', body: { docIds: [pending] } },
    );
    expect(notUploaded.status).toBe(400);
    expect(notUploaded.body.error.details[0]!.field).toBe('docIds');
    const other = await newUser();
    const theirs = await upload(other, 'theirs.txt', TEXT(4));
    expect(
      (await json(`${platform.api}/users/${userId}/jobs`, { method: 'POST', body: { docIds: [theirs] } }))
        .status,
    ).toBe(404);
    const bad = await json(`${platform.api}/users/${userId}/jobs`, {
      method: 'POST',
      body: { docIds: [theirs] },
      headers: { 'idempotency-key': 'has space' },
    });
    expect(bad.status).toBe(400);
    expect((await json(`${platform.api}/users/${other}/jobs/${randomUUID()}`)).status).toBe(404);
  });
});
