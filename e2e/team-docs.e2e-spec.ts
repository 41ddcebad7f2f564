// Team documents end to end, on the platform started as `npm start` starts it: the owner makes a team with an
// editor, a reader and a consumer; the editor uploads a document straight to the local S3 server; who may list,
// download and delete it (the role × action matrix: document.read / document.write); it never shows among the
// editor's own documents; it stays when its creator's account goes; deleting the team removes it and its object
// (identity.team.deleted → users-docs).
import { randomBytes } from 'node:crypto';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { waitFor } from '@docflow/local-platform';
import { json, signup, startPlatform, type RunningPlatform, type TestUser } from './platform';

interface Doc {
  id: string;
  userId: string;
  teamId?: string;
  name: string;
  status: string;
  upload: { url: string; method: string; headers: Record<string, string> };
  download?: { url: string };
}

interface ErrorBody {
  error: { code: string; message: string };
}

describe('team documents', () => {
  let platform: RunningPlatform;
  let s3: S3Client;
  let owner: TestUser;
  let editor: TestUser;
  let reader: TestUser;
  let consumer: TestUser;
  let outsider: TestUser;
  let teamId: string;

  const as = <T = ErrorBody>(
    user: TestUser | { authorization: string },
    method: string,
    path: string,
    body?: unknown,
  ) => json<T>(`${platform.api}${path}`, { method, body, headers: { authorization: user.authorization } });

  const keyOf = (doc: Doc) =>
    decodeURIComponent(new URL(doc.upload.url).pathname.replace(/^\/docflow\//, ''));

  async function objectExists(key: string): Promise<boolean> {
    try {
      await s3.send(new HeadObjectCommand({ Bucket: 'docflow', Key: key }));
      return true;
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
        return false;
      throw error;
    }
  }

  /** `user` registers a team document and PUTs its bytes to the presigned URL; resolves once it is uploaded. */
  async function upload(user: TestUser, team: string, bytes: Buffer, name = 'Team plan.txt'): Promise<Doc> {
    const created = await as<Doc>(user, 'POST', `/teams/${team}/docs`, {
      name,
      contentType: 'text/plain',
      size: bytes.length,
    });
    expect(created.status).toBe(201);
    const { ['Content-Length']: _length, ...headers } = created.body.upload.headers;
    const put = await fetch(created.body.upload.url, { method: 'PUT', headers, body: bytes });
    await put.arrayBuffer();
    expect(put.status).toBe(200);
    await waitFor(
      async () =>
        (await as<Doc>(user, 'GET', `/teams/${team}/docs/${created.body.id}`)).body.status === 'uploaded',
      { description: 'the storage event to mark the team document uploaded' },
    );
    return created.body;
  }

  async function newTeam(name: string): Promise<string> {
    const team = await as<{ id: string }>(owner, 'POST', '/teams', { name });
    expect(team.status).toBe(201);
    for (const [member, role] of [
      [editor, 'editor'],
      [reader, 'reader'],
      [consumer, 'consumer'],
    ] as const) {
      const added = await as(owner, 'POST', `/teams/${team.body.id}/members`, { email: member.email, role });
      expect(added.status).toBe(201);
    }
    return team.body.id;
  }

  async function teamRows(team: string): Promise<number> {
    const client = new Client({ connectionString: platform.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>(
        'SELECT count(*) AS n FROM users_docs.documents WHERE team_id = $1',
        [team],
      );
      return Number(rows[0]!.n);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    platform = await startPlatform('teamdocs');
    s3 = new S3Client({
      region: 'us-east-1',
      endpoint: platform.s3Endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    owner = await signup(platform.api, 'Owner');
    editor = await signup(platform.api, 'Editor');
    reader = await signup(platform.api, 'Reader');
    consumer = await signup(platform.api, 'Consumer');
    outsider = await signup(platform.api, 'Outsider');
    teamId = await newTeam('Research');
  });

  afterAll(async () => {
    s3?.destroy();
    await platform?.stop();
  });

  it('an editor uploads; a reader lists and downloads; a consumer 403; an outsider 404; a reader may not delete', async () => {
    const bytes = Buffer.from(`the team's plan ${randomBytes(8).toString('hex')}`);
    const doc = await upload(editor, teamId, bytes);
    expect(doc).toMatchObject({ userId: editor.id, teamId, name: 'Team plan.txt' });
    expect(keyOf(doc)).toBe(`teams/${teamId}/docs/${doc.id}/Team_plan.txt`);

    const listed = await as<{ items: Doc[] }>(reader, 'GET', `/teams/${teamId}/docs`);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((d) => d.id)).toEqual([doc.id]);
    const got = await as<Doc>(reader, 'GET', `/teams/${teamId}/docs/${doc.id}`);
    expect(got.body).toMatchObject({ id: doc.id, teamId, status: 'uploaded' });
    const download = await fetch(got.body.download!.url);
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);

    for (const path of [`/teams/${teamId}/docs`, `/teams/${teamId}/docs/${doc.id}`]) {
      const asConsumer = await as(consumer, 'GET', path);
      expect(asConsumer.status).toBe(403);
      expect(asConsumer.body.error.message).toBe('Your role in this team may not do document.read');
      const asOutsider = await as(outsider, 'GET', path);
      expect(asOutsider.status).toBe(404);
      expect(asOutsider.body.error.message).toBe('team not found');
    }
    // A platform admin has no rights in a team it is not a member of.
    expect((await as(platform.admin, 'GET', `/teams/${teamId}/docs`)).status).toBe(404);

    const readerDelete = await as(reader, 'DELETE', `/teams/${teamId}/docs/${doc.id}`);
    expect(readerDelete.status).toBe(403);
    expect(readerDelete.body.error.message).toBe('Your role in this team may not do document.write');
    const readerCreate = await as(reader, 'POST', `/teams/${teamId}/docs`, {
      name: 'r.txt',
      contentType: 'text/plain',
      size: 1,
    });
    expect(readerCreate.status).toBe(403);
    expect((await as(outsider, 'DELETE', `/teams/${teamId}/docs/${doc.id}`)).status).toBe(404);
    expect(await objectExists(keyOf(doc))).toBe(true);

    // Not among the editor's own documents, and not reachable through the editor's own routes.
    const own = await as<{ items: Doc[] }>(editor, 'GET', `/users/${editor.id}/docs`);
    expect(own.status).toBe(200);
    expect(own.body.items.map((d) => d.id)).not.toContain(doc.id);
    expect((await as(editor, 'GET', `/users/${editor.id}/docs/${doc.id}`)).status).toBe(404);
    expect((await as(editor, 'DELETE', `/users/${editor.id}/docs/${doc.id}`)).status).toBe(404);
    // Nor through another team's routes.
    const otherTeam = await as<{ id: string }>(reader, 'POST', '/teams', { name: 'Elsewhere' });
    expect((await as(reader, 'GET', `/teams/${otherTeam.body.id}/docs/${doc.id}`)).status).toBe(404);

    // Personal access tokens: the documents scopes, as on the user's own documents.
    const token = async (user: TestUser, scopes: string[]) => {
      const res = await as<{ token: string }>(user, 'POST', '/auth/tokens', { name: 'ci', scopes });
      expect(res.status).toBe(201);
      return { authorization: `Bearer ${res.body.token}` };
    };
    const readToken = await token(reader, ['documents:read']);
    expect((await as(readToken, 'GET', `/teams/${teamId}/docs/${doc.id}`)).status).toBe(200);
    const teamsToken = await token(editor, ['teams:read']);
    expect((await as(teamsToken, 'GET', `/teams/${teamId}/docs`)).status).toBe(403);
    const editorReadToken = await token(editor, ['documents:read']);
    expect((await as(editorReadToken, 'DELETE', `/teams/${teamId}/docs/${doc.id}`)).status).toBe(403);

    // The editor deletes it: gone, object and all.
    expect((await as(editor, 'DELETE', `/teams/${teamId}/docs/${doc.id}`)).status).toBe(204);
    expect((await as(reader, 'GET', `/teams/${teamId}/docs/${doc.id}`)).status).toBe(404);
    expect(await objectExists(keyOf(doc))).toBe(false);
  });

  it("keeps a team document when its creator's account is deleted", async () => {
    const leaver = await signup(platform.api, 'Leaver');
    expect(
      (await as(owner, 'POST', `/teams/${teamId}/members`, { email: leaver.email, role: 'editor' })).status,
    ).toBe(201);
    const doc = await upload(leaver, teamId, Buffer.from('left behind'), 'handover.txt');
    expect((await as(leaver, 'DELETE', `/users/${leaver.id}`)).status).toBe(204);
    const got = await as<Doc>(reader, 'GET', `/teams/${teamId}/docs/${doc.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ userId: leaver.id, teamId, status: 'uploaded' });
    expect(await (await fetch(got.body.download!.url)).text()).toBe('left behind');
  });

  it('deleting the team removes its documents and their objects', async () => {
    const team = await newTeam('Short-lived');
    const doc = await upload(editor, team, Buffer.from('temporary'));
    expect(await teamRows(team)).toBe(1);
    expect((await as(owner, 'DELETE', `/teams/${team}`)).status).toBe(204);
    await waitFor(async () => !(await objectExists(keyOf(doc))) && (await teamRows(team)) === 0, {
      description: "users-docs to erase the deleted team's documents",
    });
    expect((await as(editor, 'GET', `/teams/${team}/docs`)).status).toBe(404);
    // The other team's documents are untouched.
    expect((await as(reader, 'GET', `/teams/${teamId}/docs`)).status).toBe(200);
    expect(await teamRows(teamId)).toBeGreaterThan(0);
  });
});
