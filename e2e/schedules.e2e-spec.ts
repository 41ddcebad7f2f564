import { randomUUID } from 'node:crypto';
import { waitFor } from '@docflow/local-platform';
import { json, startPlatform, type RunningPlatform } from './platform';

interface ScheduleBody {
  id: string;
  enabled: boolean;
  timezone: string;
  nextRunAt?: string;
  lastRunAt?: string;
  lastJobId?: string;
  lastRun?: { status: string; jobIds: string[]; documentCount?: number; error?: string; slotAt: string };
}

interface ErrorBody {
  error: { code: string; message: string; details?: { field: string; message: string }[] };
}

/** The local time of `iso` in `timeZone`, as HH:MM. */
const localTime = (iso: string, timeZone: string) =>
  new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hour12: false }).format(
    new Date(iso),
  );

describe('schedules on the local platform', () => {
  let platform: RunningPlatform;
  let userId: string;

  beforeAll(async () => {
    // The launch of a `runNow` schedule wakes the scheduler at once; the short tick only bounds the rest.
    platform = await startPlatform('schedules', { SCHEDULER_TICK_MS: '500' });
    userId = await newUser();
  });

  afterAll(async () => {
    await platform?.stop();
  });

  async function newUser(): Promise<string> {
    const res = await json<{ id: string }>(`${platform.api}/users`, {
      method: 'POST',
      body: { name: 'S', email: `s-${randomUUID()}@example.com` },
    });
    return res.body.id;
  }

  async function upload(owner: string, name: string, contentType: string, text: string): Promise<string> {
    const bytes = Buffer.from(text);
    const doc = await json<{ id: string; upload: { url: string } }>(`${platform.api}/users/${owner}/docs`, {
      method: 'POST',
      body: { name, contentType, size: bytes.length },
    });
    await fetch(doc.body.upload.url, {
      method: 'PUT',
      headers: { 'Content-Type': contentType },
      body: bytes,
    });
    await waitFor(
      async () =>
        (await json<{ status: string }>(`${platform.api}/users/${owner}/docs/${doc.body.id}`)).body.status ===
        'uploaded',
    );
    return doc.body.id;
  }

  const schedules = (owner = userId) => `${platform.api}/users/${owner}/schedules`;

  it('answers 400 naming the field for a bad cron, an unknown time zone, both or neither of cron and every', async () => {
    const documents = { filter: {} };
    const cases: [Record<string, unknown>, string][] = [
      [{ cron: '0 9 * *', timezone: 'UTC', documents }, 'cron'],
      [{ cron: '0 0 30 2 *', timezone: 'UTC', documents }, 'cron'],
      [{ cron: '0 9 * * *', timezone: 'Mars/Olympus_Mons', documents }, 'timezone'],
      [{ cron: '0 9 * * *', every: 'daily', timezone: 'UTC', documents }, 'cron'],
      [{ timezone: 'UTC', documents }, 'every'],
      [{ every: 'daily', at: '25:00', timezone: 'UTC', documents }, 'at'],
      [{ every: 'daily', dayOfMonth: 3, timezone: 'UTC', documents }, 'dayOfMonth'],
      [{ every: 'fortnightly', timezone: 'UTC', documents }, 'every'],
      [{ every: 'daily', documents }, 'timezone'],
      [{ every: 'daily', timezone: 'UTC' }, 'documents'],
      [{ every: 'daily', timezone: 'UTC', documents: { docIds: [randomUUID()], filter: {} } }, 'documents'],
      [
        { every: 'daily', timezone: 'UTC', documents: { filter: { createdAfterLastRun: true } } },
        'documents.filter.createdAfterLastRun',
      ],
      [{ every: 'daily', timezone: 'UTC', documents, crew: 'nonesuch' }, 'crew'],
      [{ every: 'daily', timezone: 'UTC', documents, crew: 'translate' }, 'options.params.targetLanguage'],
    ];
    for (const [body, field] of cases) {
      const res = await json<ErrorBody>(schedules(), { method: 'POST', body });
      expect({ body, status: res.status, code: res.body.error.code }).toEqual({
        body,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
      expect({ body, fields: res.body.error.details?.map((d) => d.field) }).toEqual({
        body,
        fields: expect.arrayContaining([field]),
      });
    }
  });

  it('launches the job of a schedule due now over the documents its filter matches, then waits for the next slot', async () => {
    const plain = [
      await upload(userId, 'a.txt', 'text/plain', 'Alpha report: sales grew in every region.'),
      await upload(userId, 'b.txt', 'text/plain', 'Beta report: costs fell for the third quarter.'),
    ];
    const markdown = await upload(userId, 'c.md', 'text/markdown', '# Gamma\n\nNot plain text.');

    const created = await json<ScheduleBody>(schedules(), {
      method: 'POST',
      body: {
        name: 'nightly summaries',
        every: 'daily',
        at: '03:00',
        timezone: 'europe/berlin',
        documents: { filter: { contentType: 'text/plain' } },
        runNow: true,
      },
    });
    expect(created).toMatchObject({ status: 201, body: { enabled: true, timezone: 'Europe/Berlin' } });
    expect(Date.parse(created.body.nextRunAt!)).toBeLessThanOrEqual(Date.now());

    const url = `${schedules()}/${created.body.id}`;
    const launched = await waitFor(
      async () => {
        const res = await json<ScheduleBody>(url);
        return res.body.lastJobId ? res.body : undefined;
      },
      { description: 'the scheduled run to launch its job' },
    );
    expect(launched.lastRun).toMatchObject({
      status: 'launched',
      documentCount: 2,
      jobIds: [launched.lastJobId],
    });
    expect(localTime(launched.nextRunAt!, 'Europe/Berlin')).toBe('03:00');
    expect(Date.parse(launched.nextRunAt!)).toBeGreaterThan(Date.now());

    const job = await waitFor(
      async () => {
        const res = await json<{ status: string; docIds: string[]; outputDocIds: string[]; error?: string }>(
          `${platform.api}/users/${userId}/jobs/${launched.lastJobId}`,
        );
        return ['completed', 'completed_with_errors', 'failed'].includes(res.body.status)
          ? res.body
          : undefined;
      },
      { timeoutMs: 60_000, description: 'the scheduled job to finish' },
    );
    expect(job).toMatchObject({ status: 'completed' });
    expect([...job.docIds].sort()).toEqual([...plain].sort());
    expect(job.docIds).not.toContain(markdown);
    expect(job.outputDocIds).toHaveLength(2);

    const runs = await json<{ items: { status: string; jobIds: string[] }[] }>(`${url}/runs`);
    expect(runs.body.items).toEqual([
      expect.objectContaining({ status: 'launched', jobIds: [launched.lastJobId] }),
    ]);
  });

  it('records a skipped run, not a job, when the filter matches nothing', async () => {
    const owner = await newUser();
    await upload(owner, 'only.txt', 'text/plain', 'just text');
    const created = await json<ScheduleBody>(schedules(owner), {
      method: 'POST',
      body: {
        cron: '0 6 * * 1-5',
        timezone: 'UTC',
        documents: { filter: { contentType: 'application/pdf' } },
        runNow: true,
      },
    });
    expect(created.status).toBe(201);
    const skipped = await waitFor(async () => {
      const res = await json<ScheduleBody>(`${schedules(owner)}/${created.body.id}`);
      return res.body.lastRun && res.body.lastRun.status !== 'pending' ? res.body : undefined;
    });
    expect(skipped.lastRun).toMatchObject({ status: 'skipped', jobIds: [], documentCount: 0 });
    expect(skipped.lastJobId).toBeUndefined();
    const jobs = await json<{ items: unknown[] }>(`${platform.api}/users/${owner}/jobs`);
    expect(jobs.body.items).toEqual([]);
  });

  it("pauses, resumes, lists, deletes; another user's schedule is a 404", async () => {
    const owner = await newUser();
    const docId = await upload(owner, 'fixed.txt', 'text/plain', 'fixed document');
    const ids: string[] = [];
    for (const every of ['weekly', 'monthly'] as const) {
      const res = await json<ScheduleBody>(schedules(owner), {
        method: 'POST',
        body: { every, timezone: 'America/New_York', documents: { docIds: [docId] } },
      });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }

    const paused = await json<ScheduleBody>(`${schedules(owner)}/${ids[0]}`, {
      method: 'PATCH',
      body: { enabled: false },
    });
    expect(paused.status).toBe(200);
    expect(paused.body.enabled).toBe(false);
    expect(paused.body.nextRunAt).toBeUndefined();
    const resumed = await json<ScheduleBody>(`${schedules(owner)}/${ids[0]}`, {
      method: 'PATCH',
      body: { enabled: true },
    });
    expect(resumed.body.nextRunAt).toBeDefined();
    expect(localTime(resumed.body.nextRunAt!, 'America/New_York')).toBe('00:00');

    const first = await json<{ items: ScheduleBody[]; nextCursor?: string }>(`${schedules(owner)}?limit=1`);
    expect(first.body.items.map((s) => s.id)).toEqual([ids[1]]);
    const second = await json<{ items: ScheduleBody[]; nextCursor?: string }>(
      `${schedules(owner)}?limit=1&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items.map((s) => s.id)).toEqual([ids[0]]);
    expect(second.body.nextCursor).toBeUndefined();

    const stranger = await newUser();
    for (const [method, suffix] of [
      ['GET', ''],
      ['PATCH', ''],
      ['DELETE', ''],
      ['GET', '/runs'],
    ] as const) {
      const res = await json<ErrorBody>(`${schedules(stranger)}/${ids[0]}${suffix}`, {
        method,
        ...(method === 'PATCH' ? { body: { enabled: false } } : {}),
      });
      expect({ method, suffix, status: res.status }).toEqual({ method, suffix, status: 404 });
    }
    const theirs = await json<ErrorBody>(schedules(stranger), {
      method: 'POST',
      body: { every: 'daily', timezone: 'UTC', documents: { docIds: [docId] } },
    });
    expect(theirs.status).toBe(404);
    const nobody = await json<ErrorBody>(schedules(randomUUID()), {
      method: 'POST',
      body: { every: 'daily', timezone: 'UTC', documents: { filter: {} } },
    });
    expect(nobody.status).toBe(404);

    const deleted = await json(`${schedules(owner)}/${ids[0]}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect((await json(`${schedules(owner)}/${ids[0]}`)).status).toBe(404);
    const left = await json<{ items: ScheduleBody[] }>(schedules(owner));
    expect(left.body.items.map((s) => s.id)).toEqual([ids[1]]);
  });
});
