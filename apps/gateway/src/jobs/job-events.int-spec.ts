// A job's Server-Sent Events when JetStream no longer holds them: the gateway in this process with the test's
// header authenticator, a nats-server of the test's own, and the test playing the jobs service (job views and
// the stored history `jobs.job.events`, kept as the jobs service keeps it: each event with the sequence
// JetStream acknowledged). JOB_EVENTS is purged for a finished job; its stream still sends every event, with
// the same ids, then the final one.
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import {
  JOB_EVENTS_STREAM,
  JobsSubjects,
  jobEventsSubject,
  parseJobEventId,
  type Job,
  type JobEventPage,
  type JobStatus,
  type ListJobEventsRequest,
  type StoredJobEvent,
} from '@docflow/contracts';
import { createTestEnvironment, type TestEnvironment } from '@docflow/local-platform';
import { NatsRpcClient, STREAMS, ensureStream } from '@docflow/messaging';
import { createLogger } from '@docflow/observability';
import { loadGatewayConfig } from '../config';
import { createGatewayApps, type GatewayApps } from '../gateway.app';
import { FakeTeamAccess, HeaderAuthenticator, TEST_USER_HEADER } from '../testing/test-authenticator';

interface Frame {
  id: string;
  event: string;
  data: Record<string, unknown>;
}

describe('job events from the stored history once JetStream lost them', () => {
  let env: TestEnvironment;
  let services: NatsRpcClient;
  let apps: GatewayApps;
  let api: string;
  let nc: NatsConnection;
  const user = randomUUID();
  const team = randomUUID();
  /** The jobs service's state: each job's status, owner and stored events (row, recorded sequence, event). */
  const jobs = new Map<
    string,
    {
      status: JobStatus;
      userId: string;
      teamId?: string;
      events: { row: number; seq: number | null; type: string; data: Record<string, unknown> }[];
    }
  >();
  /** The stored-history requests the gateway made. */
  const historyAsked: ListJobEventsRequest[] = [];
  let rows = 0;

  const view = (id: string): Job => {
    const job = jobs.get(id)!;
    return {
      id,
      userId: job.userId,
      ...(job.teamId ? { teamId: job.teamId } : {}),
      status: job.status,
      crew: 'summarize',
      strategy: 'individual',
      params: {},
      docIds: [],
      documents: [],
      progress: 100,
      outputDocIds: [],
      documentCount: 0,
      inputCount: 0,
      truncated: false,
      usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
      engine: 'local',
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    };
  };

  /** `jobs.job.events` as the jobs service answers it (see JobEventHistory), two events a page. */
  function storedHistory(request: ListJobEventsRequest): JobEventPage {
    historyAsked.push(request);
    const job = jobs.get(request.jobId)!;
    const position = parseJobEventId(request.after ?? '0')!;
    const after =
      'row' in position
        ? Number(position.row)
        : Math.max(0, ...job.events.filter((e) => e.seq !== null && e.seq <= position.seq).map((e) => e.row));
    const rest = job.events.filter((e) => e.row > after);
    const items: StoredJobEvent[] = rest.slice(0, 2).map((e) => ({
      id: e.seq === null ? `pg-${e.row}` : String(e.seq),
      type: e.type,
      data: e.data as StoredJobEvent['data'],
    }));
    return {
      items,
      ...(rest.length > 2 ? { nextCursor: `pg-${rest[1]!.row}` } : {}),
      pending: false,
    };
  }

  /** A job with its events published (the stream's sequences recorded), finished unless `status` says not. */
  async function jobWithEvents(
    owner: { teamId?: string },
    status: JobStatus = 'completed',
  ): Promise<{ id: string; ids: string[] }> {
    const id = randomUUID();
    const types = ['job_started', 'stage_started', 'stage_progress', 'stage_completed', 'doc_completed'];
    if (status === 'completed') types.push('job_completed');
    const job = { status, userId: user, ...owner, events: [] as never[] };
    jobs.set(id, job);
    const js = nc.jetstream();
    for (const type of types) {
      const data = { jobId: id, type, status, at: new Date().toISOString() };
      const ack = await js.publish(jobEventsSubject(id), JSON.stringify(data));
      // Another job's event in between: one job's sequences are not consecutive.
      await js.publish(jobEventsSubject(randomUUID()), JSON.stringify({ type: 'job_started' }));
      jobs.get(id)!.events.push({ row: ++rows, seq: ack.seq, type, data } as never);
    }
    return { id, ids: jobs.get(id)!.events.map((e) => String(e.seq)) };
  }

  async function purge(jobId: string): Promise<void> {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.purge(JOB_EVENTS_STREAM, { filter: jobEventsSubject(jobId) });
  }

  /** The stream's frames (heartbeats left out), its status and the time it took. */
  async function read(
    path: string,
    lastEventId?: string,
  ): Promise<{ status: number; frames: Frame[]; text: string }> {
    const response = await fetch(`${api}${path}`, {
      headers: {
        [TEST_USER_HEADER]: user,
        accept: 'text/event-stream',
        ...(lastEventId !== undefined ? { 'last-event-id': lastEventId } : {}),
      },
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    const frames = text
      .split('\n\n')
      .map((frame) =>
        Object.fromEntries(
          frame
            .split('\n')
            .filter((l) => l.includes(':'))
            .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
        ),
      )
      .filter((f) => f.event && f.event !== 'heartbeat')
      .map((f) => ({ id: f.id, event: f.event, data: JSON.parse(f.data) }));
    return { status: response.status, frames, text };
  }

  beforeAll(async () => {
    env = await createTestEnvironment('job_events_history');
    services = new NatsRpcClient({ servers: env.natsUrl, name: 'gateway', defaultTimeoutMs: 5_000 });
    services.start();
    const teams = new FakeTeamAccess();
    teams.members.set(team, new Set([user]));
    apps = await createGatewayApps(
      loadGatewayConfig({ STORAGE_WEBHOOK_TOKEN: 'a-webhook-token-for-tests' }),
      services,
      createLogger({ service: 'gateway', level: 'silent' }),
      { authenticator: new HeaderAuthenticator(), teamAccess: teams },
    );
    await apps.publicApp.listen(0, '127.0.0.1');
    api = `${await apps.publicApp.getUrl()}/api/v1`.replace('[::1]', '127.0.0.1');
    nc = await connect({ servers: env.natsUrl });
    nc.subscribe('jobs.job.*', {
      callback: (_err, msg) => {
        const packet = JSON.parse(new TextDecoder().decode(msg.data)) as {
          id: string;
          data: ListJobEventsRequest;
        };
        const response =
          msg.subject === JobsSubjects.jobEvents ? storedHistory(packet.data) : view(packet.data.jobId);
        msg.respond(JSON.stringify({ id: packet.id, response, isDisposed: true }));
      },
    });
    await ensureStream(nc, STREAMS.jobEvents);
    await nc.flush();
  });

  afterAll(async () => {
    await apps?.close();
    await services?.close();
    await nc?.close();
    await env?.close();
  });

  it('sends every event of a finished job whose messages were purged, with the same ids, then the final one; resumes after Last-Event-ID; 204 after the final event', async () => {
    const { id, ids } = await jobWithEvents({});
    const path = `/users/${user}/jobs/${id}/events`;
    const live = await read(path);
    expect(live.status).toBe(200);
    expect(live.frames.map((f) => f.id)).toEqual(ids);

    await purge(id);
    historyAsked.length = 0;
    const started = Date.now();
    const replay = await read(path);
    expect(replay.status).toBe(200);
    expect(replay.frames).toEqual(live.frames);
    expect(replay.frames.at(-1)!.event).toBe('job_completed');
    // Without JetStream's idle wait: the history ends with the final event.
    expect(Date.now() - started).toBeLessThan(5_000);
    // Paged (two a page here), for the user's own job.
    expect(historyAsked.map((r) => r.after)).toEqual(['0', `pg-${rows - 4}`, `pg-${rows - 2}`]);
    expect(historyAsked[0]).toEqual({ userId: user, jobId: id, after: '0' });

    const middle = await read(path, ids[2]);
    expect(middle.frames.map((f) => f.id)).toEqual(ids.slice(3));
    expect(middle.frames.at(-1)!.event).toBe('job_completed');
    expect((await read(path, ids.at(-1))).status).toBe(204);
    // A sequence after the final event (another job's) is past it too.
    expect((await read(path, String(Number(ids.at(-1)) + 1))).status).toBe(204);
  });

  it("does the same for a team's job, asking the history for the team's", async () => {
    const { id, ids } = await jobWithEvents({ teamId: team });
    await purge(id);
    historyAsked.length = 0;
    const replay = await read(`/teams/${team}/jobs/${id}/events`);
    expect(replay.frames.map((f) => f.id)).toEqual(ids);
    expect(historyAsked[0]).toEqual({ userId: user, teamId: team, jobId: id, after: '0' });
  });

  it('serves from JetStream while it holds the events, the stored history not being needed', async () => {
    const { id, ids } = await jobWithEvents({});
    const path = `/users/${user}/jobs/${id}/events`;
    const stream = await read(path, ids[1]);
    expect(stream.frames.map((f) => f.id)).toEqual(ids.slice(2));
    expect((await read(path, ids.at(-1))).status).toBe(204);
  });

  it('serves events stored without their sequence with their row id, resumable with it', async () => {
    const { id } = await jobWithEvents({});
    const job = jobs.get(id)!;
    for (const event of job.events.slice(0, 3)) event.seq = null;
    await purge(id);
    const path = `/users/${user}/jobs/${id}/events`;
    const replay = await read(path);
    const ids = replay.frames.map((f) => f.id);
    expect(ids).toEqual([
      ...job.events.slice(0, 3).map((e) => `pg-${e.row}`),
      ...job.events.slice(3).map((e) => String(e.seq)),
    ]);
    expect(replay.frames.at(-1)!.event).toBe('job_completed');
    expect((await read(path, ids[1])).frames.map((f) => f.id)).toEqual(ids.slice(2));
    expect((await read(path, ids[2])).frames.map((f) => f.id)).toEqual(ids.slice(3));
    expect((await read(path, ids.at(-1))).status).toBe(204);
    const bad = await read(path, 'pg-x');
    expect(bad.status).toBe(400);
  });

  it("leaves a running job's stream to JetStream alone, and refuses a row id for it", async () => {
    const { id, ids } = await jobWithEvents({}, 'running');
    historyAsked.length = 0;
    const path = `/users/${user}/jobs/${id}/events`;
    const controller = new AbortController();
    const response = await fetch(`${api}${path}`, {
      headers: { [TEST_USER_HEADER]: user, 'last-event-id': ids[3]! },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes(`id: ${ids[4]}`)) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(historyAsked).toEqual([]);
    expect((await read(path, 'pg-1')).status).toBe(400);
  });
});
