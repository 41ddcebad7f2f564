// A job's event stream served by any gateway replica, with heartbeats; the strategies and the list filter
// through the API. The platform starts as the README starts it, plus a second gateway on the same NATS.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { connect } from 'nats';
import { JOB_EVENTS_STREAM, jobEventsSubject } from '@docflow/contracts';
import { freePort, waitFor } from '@docflow/local-platform';
import { ROOT, json, startPlatform, type RunningPlatform } from './platform';
import { readEvents } from './sse';

const TERMINAL = new Set(['job_completed', 'job_failed', 'job_cancelled']);
const HEARTBEAT_MS = 200;

describe('job event streams and job options through the API', () => {
  let platform: RunningPlatform;
  let replica: ChildProcess | undefined;
  let replicaApi: string;
  let user: { id: string; authorization: string };
  const replicaOutput: string[] = [];

  beforeAll(async () => {
    platform = await startPlatform('streams', { SSE_HEARTBEAT_MS: String(HEARTBEAT_MS) });
    // A second gateway replica on the same NATS: the services behind it are the platform's.
    const ports = { http: await freePort(), private: await freePort() };
    replica = spawn(process.execPath, [join(ROOT, 'apps/gateway/dist/main.js')], {
      env: {
        ...process.env,
        NATS_URL: `nats://127.0.0.1:${platform.ports.nats}`,
        HTTP_PORT: String(ports.http),
        PRIVATE_HTTP_PORT: String(ports.private),
        STORAGE_WEBHOOK_TOKEN: platform.webhookToken,
        SSE_HEARTBEAT_MS: String(HEARTBEAT_MS),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    replica.stdout?.on('data', (d: Buffer) => replicaOutput.push(String(d)));
    replica.stderr?.on('data', (d: Buffer) => replicaOutput.push(String(d)));
    replicaApi = `http://127.0.0.1:${ports.http}/api/v1`;
    await waitFor(
      async () =>
        (await fetch(`http://127.0.0.1:${ports.http}/health/ready`).catch(() => null))?.status === 200,
      { timeoutMs: 30_000, description: `the second gateway to be ready: ${replicaOutput.join('')}` },
    );
    const email = `s-${randomUUID()}@example.com`;
    const made = await json<{ jwt: string; user: { id: string } }>(`${platform.api}/auth/signup`, {
      method: 'POST',
      body: { name: 'Streams', email, password: 'correct horse battery' },
      anonymous: true,
    });
    expect(made.status).toBe(201);
    user = { id: made.body.user.id, authorization: `Bearer ${made.body.jwt}` };
  });

  afterAll(async () => {
    replica?.kill('SIGTERM');
    await platform?.stop();
  });

  const auth = () => ({ authorization: user.authorization });

  async function upload(name: string, text: string): Promise<string> {
    const bytes = Buffer.from(text);
    const doc = await json<{ id: string; upload: { url: string } }>(`${platform.api}/users/${user.id}/docs`, {
      method: 'POST',
      body: { name, contentType: 'text/plain', size: bytes.length },
      headers: auth(),
    });
    expect(doc.status).toBe(201);
    await fetch(doc.body.upload.url, {
      method: 'PUT',
      headers: { 'Content-Type': 'text/plain' },
      body: bytes,
    });
    await waitFor(
      async () =>
        (
          await json<{ status: string }>(`${platform.api}/users/${user.id}/docs/${doc.body.id}`, {
            headers: auth(),
          })
        ).body.status === 'uploaded',
      { description: `${name} to be uploaded` },
    );
    return doc.body.id;
  }

  async function start(body: Record<string, unknown>) {
    const res = await json<{ id: string; documents: unknown[] }>(`${platform.api}/users/${user.id}/jobs`, {
      method: 'POST',
      body,
      headers: auth(),
    });
    expect(res.status).toBe(202);
    return res.body;
  }

  it('another gateway replica serves the stream of a job started through the first, with heartbeats, and resumes after Last-Event-ID', async () => {
    // About 6 MB: several seconds of work for the offline model, so heartbeats come while it runs.
    const big = Array.from(
      { length: 15_000 },
      (_, i) => `Paragraph ${i}: the quarter went well in region ${i}.`,
    )
      .join('\n\n')
      .repeat(3);
    const job = await start({ docIds: [await upload('big.txt', big)] });
    const path = `/users/${user.id}/jobs/${job.id}/events`;

    // Through the second replica: history first, heartbeats while the step works, the final event last.
    const seen = await readEvents(`${replicaApi}${path}`, (e) => TERMINAL.has(e.event), auth());
    expect(seen.at(-1)!.event).toBe('job_completed');
    const heartbeats = seen.filter((e) => e.event === 'heartbeat');
    expect(heartbeats.length).toBeGreaterThan(0);
    // A heartbeat repeats the id of the last event before it, so a reconnect after one misses nothing.
    for (const beat of heartbeats) {
      const before = seen.slice(0, seen.indexOf(beat)).filter((e) => e.event !== 'heartbeat');
      expect(beat.id).toBe(before.at(-1)?.id ?? 0);
      expect(beat.data).toMatchObject({ jobId: job.id });
    }
    const events = seen.filter((e) => e.event !== 'heartbeat');
    expect(events[0]!.event).toBe('job_started');
    const ids = events.map((e) => e.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);

    // Through the first replica, resuming in the middle: exactly the rest, the same ids.
    const middle = events[Math.floor(events.length / 2)]!;
    const rest = await readEvents(`${platform.api}${path}`, (e) => TERMINAL.has(e.event), {
      ...auth(),
      'last-event-id': String(middle.id),
    });
    expect(rest.filter((e) => e.event !== 'heartbeat').map((e) => e.id)).toEqual(
      ids.slice(ids.indexOf(middle.id) + 1),
    );
    // After the final event, a client that reconnects is told to stop (204), on either replica.
    for (const api of [platform.api, replicaApi]) {
      const after = await fetch(`${api}${path}`, {
        headers: { accept: 'text/event-stream', ...auth(), 'last-event-id': String(ids.at(-1)) },
      });
      expect(after.status).toBe(204);
    }

    // Once JetStream no longer holds the job's messages (7 days, or purged as here), the stored history serves
    // the same events with the same ids, then the final one; Last-Event-ID and the 204 work as before.
    const nc = await connect({ servers: `nats://127.0.0.1:${platform.ports.nats}` });
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.purge(JOB_EVENTS_STREAM, { filter: jobEventsSubject(job.id) });
      const info = await jsm.streams.info(JOB_EVENTS_STREAM, { subjects_filter: jobEventsSubject(job.id) });
      expect(Object.keys(info.state.subjects ?? {})).toEqual([]);
    } finally {
      await nc.close();
    }
    for (const api of [platform.api, replicaApi]) {
      const replay = await readEvents(`${api}${path}`, (e) => TERMINAL.has(e.event), auth());
      expect(replay.filter((e) => e.event !== 'heartbeat')).toEqual(events);
      const resumed = await readEvents(`${api}${path}`, (e) => TERMINAL.has(e.event), {
        ...auth(),
        'last-event-id': String(middle.id),
      });
      expect(resumed.filter((e) => e.event !== 'heartbeat').map((e) => e.id)).toEqual(
        ids.slice(ids.indexOf(middle.id) + 1),
      );
      const after = await fetch(`${api}${path}`, {
        headers: { accept: 'text/event-stream', ...auth(), 'last-event-id': String(ids.at(-1)) },
      });
      expect(after.status).toBe(204);
    }
  });

  it('strategy combined makes one input and one output of all documents; object one input per ten', async () => {
    const docIds: string[] = [];
    for (let i = 0; i < 12; i++)
      docIds.push(await upload(`n${i}.txt`, `Note ${i}: sales rose ${i} percent.`));

    const combined = await start({ docIds: docIds.slice(0, 3), strategy: 'combined' });
    const object = await start({ docIds, strategy: 'object' });
    type View = {
      status: string;
      strategy: string;
      documents: { docId: string; inputId: string; status: string; outputDocId?: string }[];
      outputDocIds: string[];
    };
    const finished = async (id: string) =>
      waitFor(
        async () => {
          const res = await json<View>(`${platform.api}/users/${user.id}/jobs/${id}`, { headers: auth() });
          return res.body.status === 'completed' ? res.body : undefined;
        },
        { timeoutMs: 90_000, description: `job ${id} to complete` },
      );
    // The job lists each source document with the input it went into and that input's output.
    const one = await finished(combined.id);
    expect(one.strategy).toBe('combined');
    expect(one.documents).toHaveLength(3);
    expect(new Set(one.documents.map((d) => d.inputId))).toEqual(new Set(['combined']));
    expect(one.outputDocIds).toHaveLength(1);
    expect(one.documents.every((d) => d.outputDocId === one.outputDocIds[0])).toBe(true);
    const ten = await finished(object.id);
    expect(ten.strategy).toBe('object');
    expect(ten.documents).toHaveLength(12);
    const inputs = new Map<string, number>();
    for (const d of ten.documents) inputs.set(d.inputId, (inputs.get(d.inputId) ?? 0) + 1);
    expect([...inputs.values()].sort((a, b) => a - b)).toEqual([2, 10]);
    expect(ten.outputDocIds).toHaveLength(2);
    // Each output is a document of the user, downloadable.
    for (const outputId of [...one.outputDocIds, ...ten.outputDocIds]) {
      const doc = await json<{ kind: string; download?: { url: string } }>(
        `${platform.api}/users/${user.id}/docs/${outputId}`,
        { headers: auth() },
      );
      expect(doc.body.kind).toBe('output');
    }
  });

  it('lists jobs filtered by status, and names the field of a status that does not exist', async () => {
    const completed = await json<{ items: { id: string; status: string }[] }>(
      `${platform.api}/users/${user.id}/jobs?status=completed&limit=100`,
      { headers: auth() },
    );
    expect(completed.status).toBe(200);
    expect(completed.body.items.length).toBeGreaterThanOrEqual(1);
    expect(completed.body.items.every((j) => j.status === 'completed')).toBe(true);
    const failed = await json<{ items: unknown[] }>(`${platform.api}/users/${user.id}/jobs?status=failed`, {
      headers: auth(),
    });
    expect(failed.body.items).toEqual([]);
    const bad = await json<{ error: { details: { field: string }[] } }>(
      `${platform.api}/users/${user.id}/jobs?status=done`,
      { headers: auth() },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d) => d.field)).toEqual(['status']);
  });
});
