// Quotas end to end, on the platform started as `npm start` starts it (quotas enforced, read from user-details):
// a platform admin lowers a user's quota (PATCH /users/{user_id}/details/subscription); the user's next document
// is refused with 403 and their next job with 429 and Retry-After, each naming the limit and the numbers; a team
// document counts as its creator's; raised again, the user goes on at once.
import { waitFor } from '@docflow/local-platform';
import { json, signup, startPlatform, type RunningPlatform, type TestUser } from './platform';

interface Doc {
  id: string;
  status: string;
  upload: { url: string; method: string; headers: Record<string, string> };
}

interface QuotaError {
  error: {
    code: string;
    message: string;
    details: {
      field: string;
      limit: number;
      used: number;
      requested: number;
      plan: string;
      retryAfterSeconds?: number;
    };
  };
}

describe('quotas', () => {
  let platform: RunningPlatform;
  let user: TestUser;

  const as = <T = QuotaError>(method: string, path: string, body?: unknown) =>
    json<T>(`${platform.api}${path}`, { method, body, headers: { authorization: user.authorization } });

  /** The admin (the platform's default Authorization) sets the user's quota. */
  async function setQuota(quota: Record<string, number>): Promise<void> {
    const res = await json(`${platform.api}/users/${user.id}/details/subscription`, {
      method: 'PATCH',
      body: { quota },
    });
    expect(res.status).toBe(200);
  }

  const newDocument = (size: number, path = `/users/${user.id}/docs`) =>
    as<Doc & QuotaError>('POST', path, { name: 'notes.txt', contentType: 'text/plain', size });

  async function upload(text: string): Promise<string> {
    const bytes = Buffer.from(text);
    const created = await newDocument(bytes.length);
    expect(created.status).toBe(201);
    const { ['Content-Length']: _length, ...headers } = created.body.upload.headers;
    const put = await fetch(created.body.upload.url, { method: 'PUT', headers, body: bytes });
    await put.arrayBuffer();
    expect(put.status).toBe(200);
    await waitFor(
      async () =>
        (await as<Doc>('GET', `/users/${user.id}/docs/${created.body.id}`)).body.status === 'uploaded',
      { description: 'the document to be uploaded' },
    );
    return created.body.id;
  }

  beforeAll(async () => {
    platform = await startPlatform('quotas');
    user = await signup(platform.api, 'Quota User');
    // The details (and with them the quota an admin can change) exist once the new-user setup has run.
    await waitFor(async () => (await as('GET', `/users/${user.id}/details`)).status === 200, {
      description: "the user's details",
    });
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('refuses the next document (403) and job (429, Retry-After) past a lowered quota, and lets them go on when it is raised', async () => {
    await setQuota({ maxDocuments: 1, maxJobsPerDay: 1 });
    const docId = await upload('Quarterly notes: sales rose in every region.');
    const job = await as<{ id: string }>('POST', `/users/${user.id}/jobs`, { docIds: [docId] });
    expect(job.status).toBe(202);

    const refusedDoc = await newDocument(10);
    expect(refusedDoc.status).toBe(403);
    expect(refusedDoc.body.error).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      message:
        'maxDocuments: 1 documents; the quota of plan free allows 1: delete documents or ask for a larger quota',
      details: { field: 'quota.maxDocuments', limit: 1, used: 1, requested: 1, plan: 'free' },
    });

    // A team is no way around it: a team document counts as its creator's.
    const team = await as<{ id: string }>('POST', '/teams', { name: 'Quota team' });
    expect(team.status).toBe(201);
    const teamDoc = await newDocument(10, `/teams/${team.body.id}/docs`);
    expect(teamDoc.status).toBe(403);
    expect(teamDoc.body.error.details.field).toBe('quota.maxDocuments');

    const refusedJob = await as('POST', `/users/${user.id}/jobs`, { docIds: [docId] });
    expect(refusedJob.status).toBe(429);
    const retryAfter = Number(refusedJob.headers.get('retry-after'));
    // The job started a moment ago leaves the 24-hour window in just under a day.
    expect(retryAfter).toBeGreaterThan(24 * 3600 - 120);
    expect(retryAfter).toBeLessThanOrEqual(24 * 3600);
    expect(refusedJob.body.error).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      message: `maxJobsPerDay: 1 jobs in the last 24 hours; the quota of plan free allows 1; the next job can start in ${retryAfter.toLocaleString('en-US')} s`,
      details: {
        field: 'quota.maxJobsPerDay',
        limit: 1,
        used: 1,
        requested: 1,
        plan: 'free',
        retryAfterSeconds: retryAfter,
      },
    });

    // Raised: the very next requests go through (a refusal reads the quota again rather than trust its cache).
    await setQuota({ maxDocuments: 3, maxJobsPerDay: 2 });
    expect((await newDocument(10)).status).toBe(201);
    expect((await as('POST', `/users/${user.id}/jobs`, { docIds: [docId] })).status).toBe(202);
    expect((await newDocument(10, `/teams/${team.body.id}/docs`)).status).toBe(201);
    expect((await newDocument(10)).status).toBe(403);
  });

  it('refuses a document that does not fit in maxStorageBytes, naming it', async () => {
    await setQuota({ maxDocuments: 100, maxStorageBytes: 1_000 });
    // Counted: the uploaded document (44 bytes) and the two pending ones of 10 bytes (own and team): 64 bytes.
    const refused = await newDocument(937);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      details: { field: 'quota.maxStorageBytes', limit: 1_000, used: 64, requested: 937, plan: 'free' },
    });
    expect(refused.body.error.message).toMatch(/^maxStorageBytes: 64 bytes used and this document has 937;/);
    expect((await newDocument(936)).status).toBe(201);
  });
});
