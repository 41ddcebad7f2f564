// A team's jobs on the local platform, as its members use them: team documents uploaded through
// `/teams/{team_id}/docs`, a job of the team started by an editor and followed by a reader over SSE, its outputs
// documents of the team, the roles' limits, the Idempotency-Key of the team, and what deleting a member and then
// the team does to the team's jobs.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { waitFor } from '@docflow/local-platform';
import { json, signup, startPlatform, type RunningPlatform, type TestUser } from './platform';
import { readEvents } from './sse';

const TEXT = (n: number) =>
  `# Team report ${n}\n\n` +
  Array.from(
    { length: 30 },
    (_, i) => `Finding ${i} of team report ${n}: churn in segment ${i % 5} fell by ${i + n} percent.`,
  ).join('\n');

const TERMINAL = new Set(['job_completed', 'job_failed', 'job_cancelled']);

interface JobView {
  id: string;
  userId: string;
  teamId?: string;
  status: string;
  outputDocIds: string[];
  error?: { code: string; message: string; details?: { field: string }[] };
}

describe("a team's jobs on the local platform", () => {
  let platform: RunningPlatform;
  let owner: TestUser;
  let editor: TestUser;
  let reader: TestUser;
  let consumer: TestUser;
  let outsider: TestUser;
  let teamId: string;

  const as = <T = Record<string, unknown>>(user: TestUser, method: string, path: string, body?: unknown) =>
    json<T>(`${platform.api}${path}`, { method, body, headers: { authorization: user.authorization } });

  /** A document of the team, uploaded by `member` through the team's documents routes. */
  async function uploadTeamDoc(member: TestUser, name: string, text: string): Promise<string> {
    const bytes = Buffer.from(text);
    const doc = await as<{ id: string; upload: { url: string; headers?: Record<string, string> } }>(
      member,
      'POST',
      `/teams/${teamId}/docs`,
      { name, contentType: 'text/plain', size: bytes.length },
    );
    expect(doc.status).toBe(201);
    await fetch(doc.body.upload.url, {
      method: 'PUT',
      headers: { 'Content-Type': 'text/plain', ...doc.body.upload.headers },
      body: bytes,
    });
    await waitFor(
      async () =>
        (await as<{ status: string }>(member, 'GET', `/teams/${teamId}/docs/${doc.body.id}`)).body.status ===
        'uploaded',
      { description: 'the team document to be uploaded' },
    );
    return doc.body.id;
  }

  beforeAll(async () => {
    platform = await startPlatform('team_jobs');
    [owner, editor, reader, consumer, outsider] = [
      await signup(platform.api, 'Owner'),
      await signup(platform.api, 'Editor'),
      await signup(platform.api, 'Reader'),
      await signup(platform.api, 'Consumer'),
      await signup(platform.api, 'Outsider'),
    ];
    const team = await as<{ id: string }>(owner, 'POST', '/teams', { name: 'Research' });
    expect(team.status).toBe(201);
    teamId = team.body.id;
    for (const [member, role] of [
      [editor, 'editor'],
      [reader, 'reader'],
      [consumer, 'consumer'],
    ] as const) {
      const added = await as(owner, 'POST', `/teams/${teamId}/members`, { email: member.email, role });
      expect(added.status).toBe(201);
    }
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it("runs over the team's documents: an editor starts it, a reader follows it, the outputs are the team's", async () => {
    const docIds = [
      await uploadTeamDoc(editor, 'a.txt', TEXT(1)),
      await uploadTeamDoc(owner, 'b.txt', TEXT(2)),
    ];
    const created = await as<JobView>(editor, 'POST', `/teams/${teamId}/jobs`, { docIds });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ teamId, userId: editor.id });

    const events = await readEvents(
      `${platform.api}/teams/${teamId}/jobs/${created.body.id}/events`,
      (e) => TERMINAL.has(e.event),
      { authorization: reader.authorization },
    );
    expect(events.at(-1)).toMatchObject({ event: 'job_completed', data: { status: 'completed' } });

    const job = await as<JobView>(reader, 'GET', `/teams/${teamId}/jobs/${created.body.id}`);
    expect(job.body).toMatchObject({ status: 'completed', teamId });
    expect(job.body.outputDocIds).toHaveLength(2);
    for (const outputId of job.body.outputDocIds) {
      const output = await as<{ kind: string; teamId: string; jobId: string; download: { url: string } }>(
        reader,
        'GET',
        `/teams/${teamId}/docs/${outputId}`,
      );
      expect(output.body).toMatchObject({ kind: 'output', teamId, jobId: created.body.id });
      expect(await (await fetch(output.body.download.url)).text()).toMatch(/churn in segment/);
      // Not a document of the member who started the job.
      expect((await as(editor, 'GET', `/users/${editor.id}/docs/${outputId}`)).status).toBe(404);
    }
    const inputs = await as<{ items: unknown[] }>(
      reader,
      'GET',
      `/teams/${teamId}/jobs/${created.body.id}/inputs`,
    );
    expect(inputs.body.items).toHaveLength(2);

    // The team's list has it; the member's own list does not, nor do the member's own routes find it.
    const listed = await as<{ items: JobView[] }>(reader, 'GET', `/teams/${teamId}/jobs?status=completed`);
    expect(listed.body.items.map((j) => j.id)).toContain(created.body.id);
    const own = await as<{ items: JobView[] }>(editor, 'GET', `/users/${editor.id}/jobs`);
    expect(own.body.items.map((j) => j.id)).not.toContain(created.body.id);
    expect((await as(editor, 'GET', `/users/${editor.id}/jobs/${created.body.id}`)).status).toBe(404);
  });

  it("takes only the team's documents, and keeps its Idempotency-Key per team", async () => {
    // A member's own document is not the team's.
    const mine = await as<{ id: string }>(editor, 'POST', `/users/${editor.id}/docs`, {
      name: 'own.txt',
      contentType: 'text/plain',
      size: 3,
    });
    const refused = await as<JobView>(editor, 'POST', `/teams/${teamId}/jobs`, { docIds: [mine.body.id] });
    expect(refused.status).toBe(404);

    const docIds = [await uploadTeamDoc(editor, 'c.txt', TEXT(3))];
    const key = `nightly-${randomUUID()}`;
    const headers = { 'idempotency-key': key };
    const first = await json<JobView>(`${platform.api}/teams/${teamId}/jobs`, {
      method: 'POST',
      body: { docIds },
      headers: { ...headers, authorization: editor.authorization },
    });
    expect(first.status).toBe(202);
    // Another member, same key and request: the same job of the team.
    const again = await json<JobView>(`${platform.api}/teams/${teamId}/jobs`, {
      method: 'POST',
      body: { docIds },
      headers: { ...headers, authorization: owner.authorization },
    });
    expect([again.status, again.body.id]).toEqual([202, first.body.id]);
    // Same key, other request: refused.
    const reused = await json<JobView>(`${platform.api}/teams/${teamId}/jobs`, {
      method: 'POST',
      body: { docIds, crew: 'review' },
      headers: { ...headers, authorization: owner.authorization },
    });
    expect([reused.status, reused.body.error?.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
  });

  it('answers by role: readers follow but do not start or cancel, consumers and outsiders see nothing', async () => {
    const docIds = [await uploadTeamDoc(editor, 'd.txt', TEXT(4))];
    const job = await as<JobView>(owner, 'POST', `/teams/${teamId}/jobs`, { docIds });
    expect(job.status).toBe(202);
    const path = `/teams/${teamId}/jobs`;
    expect((await as(reader, 'POST', path, { docIds })).status).toBe(403);
    expect((await as(reader, 'DELETE', `${path}/${job.body.id}`)).status).toBe(403);
    expect((await as(reader, 'GET', `${path}/${job.body.id}`)).status).toBe(200);
    expect((await as(consumer, 'GET', path)).status).toBe(403);
    expect((await as(consumer, 'GET', `${path}/${job.body.id}`)).status).toBe(403);
    for (const [method, route] of [
      ['GET', path],
      ['GET', `${path}/${job.body.id}`],
      ['DELETE', `${path}/${job.body.id}`],
      ['POST', path],
    ] as const) {
      const out = await as<{ error: { message: string } }>(
        outsider,
        method,
        route,
        method === 'POST' ? { docIds } : undefined,
      );
      expect([method, route, out.status, out.body.error.message]).toEqual([
        method,
        route,
        404,
        'team not found',
      ]);
    }
    // An editor cancels it (or it finished first).
    expect([200, 409]).toContain((await as(editor, 'DELETE', `${path}/${job.body.id}`)).status);
  });

  it("a member's account deletion leaves the team's jobs they started; the team's deletion erases them", async () => {
    const leaver = await signup(platform.api, 'Leaver');
    expect(
      (await as(owner, 'POST', `/teams/${teamId}/members`, { email: leaver.email, role: 'editor' })).status,
    ).toBe(201);
    const docIds = [await uploadTeamDoc(leaver, 'e.txt', TEXT(5))];
    const job = await as<JobView>(leaver, 'POST', `/teams/${teamId}/jobs`, { docIds });
    expect(job.status).toBe(202);
    await waitFor(
      async () =>
        ['completed', 'completed_with_errors', 'failed'].includes(
          (await as<JobView>(owner, 'GET', `/teams/${teamId}/jobs/${job.body.id}`)).body.status,
        ),
      { timeoutMs: 60_000, description: 'the job to finish' },
    );
    // A job of the leaver's own, over their own document: its erasure shows the deletion was processed.
    const ownDoc = Buffer.from(TEXT(6));
    const upload = await as<{ id: string; upload: { url: string } }>(
      leaver,
      'POST',
      `/users/${leaver.id}/docs`,
      {
        name: 'own.txt',
        contentType: 'text/plain',
        size: ownDoc.length,
      },
    );
    await fetch(upload.body.upload.url, {
      method: 'PUT',
      headers: { 'Content-Type': 'text/plain' },
      body: ownDoc,
    });
    await waitFor(
      async () =>
        (await as<{ status: string }>(leaver, 'GET', `/users/${leaver.id}/docs/${upload.body.id}`)).body
          .status === 'uploaded',
    );
    const ownJob = await as<JobView>(leaver, 'POST', `/users/${leaver.id}/jobs`, {
      docIds: [upload.body.id],
    });
    expect(ownJob.status).toBe(202);

    expect((await as(leaver, 'DELETE', `/users/${leaver.id}`)).status).toBe(204);
    const db = new Client({ connectionString: platform.databaseUrl });
    await db.connect();
    try {
      await waitFor(
        async () =>
          (await db.query('SELECT 1 FROM jobs.jobs WHERE id = $1', [ownJob.body.id])).rowCount === 0,
        { timeoutMs: 30_000, description: "the leaver's own job erased" },
      );
      // The team's job they started is still the team's.
      expect((await as<JobView>(owner, 'GET', `/teams/${teamId}/jobs/${job.body.id}`)).body).toMatchObject({
        id: job.body.id,
        teamId,
      });

      // The owner deletes the team: its jobs go (rows and events).
      expect((await as(owner, 'DELETE', `/teams/${teamId}`)).status).toBe(204);
      await waitFor(
        async () => (await db.query('SELECT 1 FROM jobs.jobs WHERE team_id = $1', [teamId])).rowCount === 0,
        { timeoutMs: 30_000, description: "the team's jobs erased" },
      );
      expect(
        (await db.query('SELECT 1 FROM jobs.job_events WHERE job_id = $1', [job.body.id])).rowCount,
      ).toBe(0);
      expect((await as(owner, 'GET', `/teams/${teamId}/jobs`)).status).toBe(404);
    } finally {
      await db.end();
    }
  });
});
