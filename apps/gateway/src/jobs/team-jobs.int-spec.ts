// A team's jobs through the public API: the gateway in this process with the test's header authenticator and
// team table (the real role × action policy decides), a nats-server of the test's own, and the test playing the
// jobs service. What the gateway lets through, and what it asks the jobs service, is checked route by route.
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { JobsSubjects, jobEventsSubject, type Job } from '@docflow/contracts';
import { createTestEnvironment, type TestEnvironment } from '@docflow/local-platform';
import { NatsRpcClient, STREAMS, ensureStream } from '@docflow/messaging';
import { createLogger } from '@docflow/observability';
import { loadGatewayConfig } from '../config';
import { createGatewayApps, type GatewayApps } from '../gateway.app';
import { FakeTeamAccess, HeaderAuthenticator, TEST_USER_HEADER } from '../testing/test-authenticator';

interface Answer {
  [field: string]: unknown;
  error: { code: string; message: string; details?: { field: string; message: string }[] };
}

describe("a team's jobs through the gateway (teams/{team_id}/jobs)", () => {
  let env: TestEnvironment;
  let services: NatsRpcClient;
  let apps: GatewayApps;
  let api: string;
  let nc: NatsConnection;
  /** What reached the jobs service: subject and payload. */
  const asked: { subject: string; data: Record<string, unknown> }[] = [];

  const team = randomUUID();
  const [owner, editor, reader, consumer, stranger] = [
    randomUUID(),
    randomUUID(),
    randomUUID(),
    randomUUID(),
    randomUUID(),
  ];
  const jobId = randomUUID();

  const job = (data: Record<string, unknown>): Job =>
    ({
      id: jobId,
      userId: data.userId as string,
      teamId: data.teamId as string,
      status: 'completed',
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
    }) as Job;

  async function http(
    method: string,
    path: string,
    { user, body, headers }: { user?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: Answer; text: string; type: string | null }> {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: {
        ...(user ? { [TEST_USER_HEADER]: user } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const type = response.headers.get('content-type');
    const parsed = text && type?.includes('json') ? (JSON.parse(text) as Answer) : ({} as Answer);
    return { status: response.status, body: parsed, text, type };
  }

  beforeAll(async () => {
    env = await createTestEnvironment('team_jobs');
    services = new NatsRpcClient({ servers: env.natsUrl, name: 'gateway', defaultTimeoutMs: 5_000 });
    services.start();
    const teams = new FakeTeamAccess();
    teams.members.set(team, new Set([owner]));
    teams.roles.set(
      team,
      new Map([
        [editor, 'editor'],
        [reader, 'reader'],
        [consumer, 'consumer'],
      ]),
    );
    apps = await createGatewayApps(
      loadGatewayConfig({ STORAGE_WEBHOOK_TOKEN: 'a-webhook-token-for-tests' }),
      services,
      createLogger({ service: 'gateway', level: 'silent' }),
      { authenticator: new HeaderAuthenticator(), teamAccess: teams },
    );
    await apps.publicApp.listen(0, '127.0.0.1');
    api = `${await apps.publicApp.getUrl()}/api/v1`.replace('[::1]', '127.0.0.1');

    nc = await connect({ servers: env.natsUrl });
    // The jobs service, as far as the gateway sees it.
    nc.subscribe('jobs.job.*', {
      callback: (_err, msg) => {
        const packet = JSON.parse(new TextDecoder().decode(msg.data)) as {
          id: string;
          data: Record<string, unknown>;
        };
        asked.push({ subject: msg.subject, data: packet.data });
        const response =
          msg.subject === JobsSubjects.jobList || msg.subject === JobsSubjects.jobInputs
            ? { items: [] }
            : msg.subject === JobsSubjects.jobEvents
              ? { items: [], pending: false }
              : job(packet.data);
        msg.respond(JSON.stringify({ id: packet.id, response, isDisposed: true }));
      },
    });
    await ensureStream(nc, STREAMS.jobEvents);
    await nc
      .jetstream()
      .publish(
        jobEventsSubject(jobId),
        JSON.stringify({ type: 'job_completed', jobId, status: 'completed', at: new Date().toISOString() }),
      );
    await nc.flush();
    await new Promise((r) => setTimeout(r, 200));
  });

  afterAll(async () => {
    await apps?.close();
    await services?.close();
    await nc?.close();
    await env?.close();
  });

  const base = `/teams/${team}/jobs`;
  const routes = [
    ['POST', base, 'job.create', { docIds: [randomUUID()] }],
    ['GET', base, 'job.read', undefined],
    ['GET', `${base}/${jobId}`, 'job.read', undefined],
    ['GET', `${base}/${jobId}/inputs`, 'job.read', undefined],
    ['GET', `${base}/${jobId}/events`, 'job.read', undefined],
    ['DELETE', `${base}/${jobId}`, 'job.create', undefined],
  ] as const;

  it.each(routes)(
    '%s %s: 404 to a non-member (a platform admin included), asking nothing',
    async (method, path, _action, body) => {
      asked.length = 0;
      for (const headers of [{}, { 'x-test-admin': '1' }] as Record<string, string>[]) {
        const out = await http(method, path, {
          user: stranger,
          headers,
          body,
        });
        expect([method, path, out.status, out.body.error?.code]).toEqual([method, path, 404, 'NOT_FOUND']);
      }
      expect(asked).toEqual([]);
    },
  );

  it.each(routes)('%s %s: the roles `%s` allows, 403 to the others', async (method, path, action, body) => {
    const allowed = action === 'job.create' ? [owner, editor] : [owner, editor, reader];
    for (const user of [owner, editor, reader, consumer]) {
      asked.length = 0;
      const out = await http(method, path, { user, body });
      if (allowed.includes(user)) {
        expect([method, path, user, out.status]).toEqual([method, path, user, method === 'POST' ? 202 : 200]);
        // The jobs service is asked for the team's job, by the member acting.
        expect(asked[0]!.data).toMatchObject({ userId: user, teamId: team });
      } else {
        expect([method, path, user, out.status, out.body.error.message]).toEqual([
          method,
          path,
          user,
          403,
          `Your role in this team may not do ${action}`,
        ]);
        expect(asked).toEqual([]);
      }
    }
  });

  it('starts a job of the team with the body and Idempotency-Key of the user route', async () => {
    asked.length = 0;
    const docIds = [randomUUID()];
    const out = await http('POST', base, {
      user: editor,
      body: {
        docIds,
        crew: 'translate',
        strategy: 'combined',
        options: { params: { targetLanguage: 'de' } },
      },
      headers: { 'idempotency-key': 'nightly-1' },
    });
    expect(out.status).toBe(202);
    expect(out.body).toMatchObject({ id: jobId, teamId: team, userId: editor });
    expect(asked).toEqual([
      {
        subject: JobsSubjects.jobCreate,
        data: {
          userId: editor,
          teamId: team,
          docIds,
          crew: 'translate',
          strategy: 'combined',
          options: { params: { targetLanguage: 'de' } },
          idempotencyKey: 'nightly-1',
        },
      },
    ]);
    const bad = await http('POST', base, {
      user: editor,
      body: { docIds },
      headers: { 'idempotency-key': 'two words' },
    });
    expect([bad.status, bad.body.error.details]).toEqual([
      400,
      [{ field: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' }],
    ]);
    const invalid = await http('POST', base, { user: editor, body: { docIds: 'nope' } });
    expect(invalid.status).toBe(400);
  });

  it('lists with the filters of the user route, and names a bad team id', async () => {
    asked.length = 0;
    const out = await http('GET', `${base}?limit=5&status=running`, { user: reader });
    expect(out.status).toBe(200);
    expect(asked[0]).toEqual({
      subject: JobsSubjects.jobList,
      data: { userId: reader, teamId: team, limit: 5, status: ['running'] },
    });
    const bad = await http('GET', '/teams/not-a-team/jobs', { user: reader });
    expect([bad.status, bad.body.error.details?.[0]?.field]).toEqual([400, 'team_id']);
  });

  it('passes every filter on to the jobs service, on the team route and the user route alike', async () => {
    const doc = randomUUID().toUpperCase();
    const query =
      'status=queued,running&status=failed&crew=translate&strategy=object&createdAfter=2026-01-01T00:00:00%2B01:00' +
      `&createdBefore=2026-02-01T00:00:00Z&docId=${doc}&cursor=abc&limit=3`;
    const filters = {
      limit: 3,
      cursor: 'abc',
      status: ['queued', 'running', 'failed'],
      crew: 'translate',
      strategy: 'object',
      createdAfter: '2026-01-01T00:00:00+01:00',
      createdBefore: '2026-02-01T00:00:00Z',
      docId: doc.toLowerCase(),
    };
    for (const [path, data] of [
      [`${base}?${query}`, { userId: reader, teamId: team, ...filters }],
      [`/users/${reader}/jobs?${query}`, { userId: reader, ...filters }],
    ] as const) {
      asked.length = 0;
      const out = await http('GET', path, { user: reader });
      expect([path, out.status]).toEqual([path, 200]);
      expect(asked).toEqual([{ subject: JobsSubjects.jobList, data }]);
    }
  });

  it.each([
    ['status=done', 'status'],
    ['status=running,', 'status'],
    ['status=', 'status'],
    ['crew=Translate', 'crew'],
    ['crew=a&crew=b', 'crew'],
    ['strategy=all', 'strategy'],
    ['createdAfter=2026-01-01', 'createdAfter'],
    ['createdAfter=2026-02-30T00:00:00Z', 'createdAfter'],
    ['createdBefore=2026-01-01T00:00:00', 'createdBefore'],
    ['createdBefore=tomorrow', 'createdBefore'],
    ['createdAfter=2026-01-02T00:00:00Z&createdBefore=2026-01-01T00:00:00Z', 'createdAfter'],
    ['docId=doc-1', 'docId'],
    ['owner=me', 'owner'],
  ])('answers 400 naming the parameter for ?%s, without asking the jobs service', async (query, field) => {
    asked.length = 0;
    for (const path of [`${base}?${query}`, `/users/${reader}/jobs?${query}`]) {
      const out = await http('GET', path, { user: reader });
      const fields = new Set(out.body.error?.details?.map((d) => d.field));
      expect([path, out.status, [...fields]]).toEqual([path, 400, [field]]);
    }
    expect(asked).toEqual([]);
  });

  it('passes options.batchSize on, and refuses one out of range naming it', async () => {
    asked.length = 0;
    const docIds = [randomUUID()];
    const out = await http('POST', base, {
      user: editor,
      body: { docIds, strategy: 'object', options: { batchSize: 25 } },
    });
    expect(out.status).toBe(202);
    expect(asked[0]!.data).toMatchObject({ strategy: 'object', options: { batchSize: 25 } });
    for (const batchSize of [0, 101, 2.5, '5']) {
      const bad = await http('POST', base, {
        user: editor,
        body: { docIds, strategy: 'object', options: { batchSize } },
      });
      const fields = new Set(bad.body.error.details?.map((d) => d.field));
      expect([batchSize, bad.status, [...fields]]).toEqual([batchSize, 400, ['options.batchSize']]);
    }
  });

  it("streams the team's job's events to a reader", async () => {
    const out = await http('GET', `${base}/${jobId}/events`, { user: reader });
    expect(out.status).toBe(200);
    expect(out.type).toContain('text/event-stream');
    expect(out.text).toContain('event: job_completed');
  });

  it('answers 401 to an anonymous caller', async () => {
    const out = await http('GET', base);
    expect(out.status).toBe(401);
  });
});
