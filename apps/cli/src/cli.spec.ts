import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { ServerResponse } from 'node:http';
import { runCli } from './cli';
import { credentialsPath } from './credential-store';
import { ExitCode } from './errors';
import { FakeApi, apiError, send } from './testing/fake-api';

const USER = '11111111-1111-4111-8111-111111111111';
const JOB = '22222222-2222-4222-8222-222222222222';
const DOC_A = '33333333-3333-4333-8333-333333333333';
const DOC_B = '44444444-4444-4444-8444-444444444444';
const OUT = '55555555-5555-4555-8555-555555555555';
const PAT = 'dfp_secret-personal-access-token';
const TEAM = '77777777-7777-4777-8777-777777777777';

function job(status: string, extra: Record<string, unknown> = {}) {
  return {
    id: JOB,
    userId: USER,
    status,
    crew: 'summarize',
    strategy: 'individual',
    params: {},
    docIds: [DOC_A],
    documents: [],
    progress: status === 'queued' ? 0 : 100,
    outputDocIds: status === 'queued' ? [] : [OUT],
    documentCount: 1,
    inputCount: 1,
    truncated: false,
    usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
    engine: 'local',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...extra,
  };
}

function doc(id: string, name: string, status = 'uploaded', extra: Record<string, unknown> = {}) {
  return {
    id,
    userId: USER,
    name,
    kind: 'upload',
    contentType: 'text/plain',
    size: 5,
    status,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...extra,
  };
}

function sse(response: ServerResponse, events: [number, string, unknown][], end: 'end' | 'drop' | 'hold') {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  response.write('retry: 100\n\n');
  for (const [id, type, data] of events)
    response.write(`id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  if (end === 'end') response.end();
  else if (end === 'drop') setTimeout(() => response.socket?.destroy(), 20);
}

describe('docflow CLI', () => {
  let api: FakeApi;
  let home: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    api = new FakeApi();
    await api.start();
    home = mkdtempSync(join(tmpdir(), 'docflow-cli-spec-'));
    env = { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), DOCFLOW_API_URL: `${api.url}/api/v1` };
  });

  afterEach(async () => {
    await api.stop();
    rmSync(home, { recursive: true, force: true });
  });

  async function cli(argv: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}) {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on('data', (c: Buffer) => out.push(c));
    stderr.on('data', (c: Buffer) => err.push(c));
    const code = await runCli(argv, {
      stdout,
      stderr,
      stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
      env: options.env ?? env,
      sleep: async () => undefined,
    });
    return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  }

  const withToken = () => ({ ...env, DOCFLOW_TOKEN: PAT });
  const meRoute = () =>
    api.json('GET /api/v1/auth/me', 200, { id: USER, email: 'ada@example.com', name: 'Ada', isAdmin: false });

  describe('usage', () => {
    it('exits 2 without a command, on an unknown option and on a strategy the API does not know', async () => {
      expect((await cli([])).code).toBe(ExitCode.USAGE);
      expect((await cli(['docs', 'list', '--nope'])).code).toBe(ExitCode.USAGE);
      const bad = await cli(['run', '--docs', DOC_A, '--strategy', 'sideways'], { env: withToken() });
      expect(bad.code).toBe(ExitCode.USAGE);
      expect(bad.stderr).toContain("'--strategy <strategy>' argument 'sideways' is invalid");
      expect(api.requests).toEqual([]);
    });

    it('exits 0 for --help and --version', async () => {
      const help = await cli(['run', '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('--download-to <dir>');
      expect((await cli(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    });

    it('wants exactly one of --docs and --files, and key=value params', async () => {
      for (const argv of [
        ['run'],
        ['run', '--docs', DOC_A, '--files', 'a.txt'],
        ['run', '--docs', DOC_A, '--param', 'novalue'],
      ]) {
        const result = await cli(argv, { env: withToken() });
        expect({ argv, code: result.code }).toEqual({ argv, code: ExitCode.USAGE });
      }
      expect((await cli(['run', '--docs', DOC_A, '--param', 'oops'], { env: withToken() })).stderr).toContain(
        '--param: expected key=value, got oops',
      );
    });

    it('refuses an --api that is not an http URL', async () => {
      const result = await cli(['--api', 'ftp://x', 'docs', 'list'], { env: withToken() });
      expect(result).toMatchObject({ code: ExitCode.USAGE, stderr: expect.stringContaining('--api') });
    });
  });

  describe('errors of the API', () => {
    it('exits 2 on a 400, one stderr line per field the API named; --json puts them in a JSON error', async () => {
      meRoute();
      api.json(
        'POST /api/v1/users/' + USER + '/jobs',
        400,
        apiError('VALIDATION_FAILED', 'crew: must be one of …', [
          { field: 'crew', message: 'must be one of summarize, translate' },
        ]),
      );
      const result = await cli(['run', '--docs', DOC_A, '--crew', 'poetry'], { env: withToken() });
      expect(result.code).toBe(ExitCode.USAGE);
      expect(result.stderr).toContain(
        'docflow: crew: must be one of … (HTTP 400 VALIDATION_FAILED, request req-1)\n' +
          'docflow:   crew: must be one of summarize, translate\n',
      );
      expect(result.stderr).toContain('docflow:   crew: must be one of summarize, translate');
      const json = await cli(['--json', 'run', '--docs', DOC_A, '--crew', 'poetry'], { env: withToken() });
      expect(JSON.parse(json.stderr)).toMatchObject({
        error: { exitCode: 2, status: 400, fields: [{ field: 'crew' }], requestId: 'req-1' },
      });
    });

    it.each([
      [409, 'CONFLICT', 'you are the only owner of a team: transfer it or delete it first', ExitCode.FAILED],
      [403, 'FORBIDDEN', 'this team key needs the role admin; you are a member', ExitCode.AUTH],
      [422, 'IDEMPOTENCY_KEY_REUSED', 'the idempotency key was used for another request', ExitCode.USAGE],
      [
        429,
        'QUOTA_EXCEEDED',
        'maxJobsPerDay: 20 jobs in the last 24 hours; the quota of plan free allows 20; the next job can start in 60 s',
        ExitCode.FAILED,
      ],
      [
        403,
        'QUOTA_EXCEEDED',
        'maxDocuments: 100 documents; the quota of plan free allows 100: delete documents or ask for a larger quota',
        ExitCode.FAILED,
      ],
    ])(
      'prints the API message of a %d that names fields, the fields underneath',
      async (status, code, message, exit) => {
        meRoute();
        api.json(
          `POST /api/v1/users/${USER}/jobs`,
          status,
          apiError(code, message, [{ field: 'docIds', message: 'see above' }]),
        );
        const result = await cli(['run', '--docs', DOC_A], { env: withToken() });
        expect(result).toEqual({
          code: exit,
          stdout: '',
          stderr:
            `docflow: ${message} (HTTP ${status} ${code}, request req-1)\n` +
            'docflow:   docIds: see above\n',
        });
      },
    );

    it('exits 4 on a 404, 3 on a 401 or 403, 1 on a 409, 5 on a 503 after retrying and on a refused connection', async () => {
      meRoute();
      const path = `/api/v1/users/${USER}/jobs/${JOB}`;
      const cases: [number, number][] = [
        [404, ExitCode.NOT_FOUND],
        [401, ExitCode.AUTH],
        [403, ExitCode.AUTH],
        [409, ExitCode.FAILED],
        [503, ExitCode.UNAVAILABLE],
      ];
      for (const [status, code] of cases) {
        api.json(`GET ${path}`, status, apiError('X', `status ${status}`));
        api.json(`DELETE ${path}`, status, apiError('X', `status ${status}`));
        const get = await cli(['jobs', 'get', JOB], { env: withToken() });
        const cancel = await cli(['jobs', 'cancel', JOB], { env: withToken() });
        expect({ status, get: get.code, cancel: cancel.code }).toEqual({ status, get: code, cancel: code });
      }
      // GETs are sent three times on a 503; a DELETE once.
      expect(api.find('GET', path)).toHaveLength(4 + 3);
      expect(api.find('DELETE', path).length).toBe(5);

      await api.stop();
      const refused = await cli(['jobs', 'get', JOB], { env: { ...withToken(), DOCFLOW_USER_ID: USER } });
      expect(refused.code).toBe(ExitCode.UNAVAILABLE);
      expect(refused.stderr).toContain('ECONNREFUSED');
    });

    it('exits 3 without credentials, and says how to get some', async () => {
      const result = await cli(['docs', 'list']);
      expect(result.code).toBe(ExitCode.AUTH);
      expect(result.stderr).toContain('DOCFLOW_TOKEN');
    });

    it('explains a token that may not read /auth/me, and takes the user id from DOCFLOW_USER_ID instead', async () => {
      api.json('GET /api/v1/auth/me', 403, apiError('FORBIDDEN', 'missing scope profile:read'));
      api.json(`GET /api/v1/users/${USER}/docs`, 200, { items: [doc(DOC_A, 'a.txt')] });
      const refused = await cli(['docs', 'list'], { env: withToken() });
      expect(refused.code).toBe(ExitCode.AUTH);
      expect(refused.stderr).toContain('DOCFLOW_USER_ID');
      const listed = await cli(['--json', 'docs', 'list'], {
        env: { ...withToken(), DOCFLOW_USER_ID: USER },
      });
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.stdout).items[0].id).toBe(DOC_A);
      expect(api.find('GET', `/api/v1/users/${USER}/docs`)[0]!.headers.authorization).toBe(`Bearer ${PAT}`);
    });
  });

  describe('login', () => {
    const authResult = (n: number) => ({
      jwt: `jwt-${n}`,
      refreshToken: `dfr_refresh-${n}`,
      expiresIn: 900,
      user: { id: USER, email: 'ada@example.com', name: 'Ada' },
    });

    it('saves the session in a 0600 file, prints no secret, and sends the access token afterwards', async () => {
      api.json('POST /api/v1/auth/login', 200, authResult(1));
      meRoute();
      const login = await cli(['login', '--email', 'ada@example.com', '--password-stdin'], {
        stdin: 'correct horse battery\n',
      });
      expect(login).toMatchObject({ code: 0, stdout: expect.stringContaining(`ada@example.com (${USER})`) });
      expect(JSON.parse(api.find('POST', '/api/v1/auth/login')[0]!.body)).toEqual({
        email: 'ada@example.com',
        password: 'correct horse battery',
      });
      for (const secret of ['correct horse', 'jwt-1', 'dfr_refresh-1'])
        expect(login.stdout + login.stderr).not.toContain(secret);
      const file = credentialsPath(env);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(join(env.XDG_CONFIG_HOME!, 'docflow')).mode & 0o777).toBe(0o700);

      const whoami = await cli(['whoami']);
      expect(whoami).toMatchObject({ code: 0, stdout: expect.stringContaining('saved login') });
      expect(api.find('GET', '/api/v1/auth/me')[0]!.headers.authorization).toBe('Bearer jwt-1');
      // DOCFLOW_TOKEN wins over the saved login.
      await cli(['whoami'], { env: withToken() });
      expect(api.find('GET', '/api/v1/auth/me')[1]!.headers.authorization).toBe(`Bearer ${PAT}`);
    });

    it('exits 3 on a wrong password and saves nothing', async () => {
      api.json('POST /api/v1/auth/login', 401, apiError('UNAUTHENTICATED', 'Invalid credentials'));
      const result = await cli(['login', '--email', 'ada@example.com', '--password', 'nope-nope']);
      expect(result).toMatchObject({ code: ExitCode.AUTH, stderr: 'docflow: wrong email or password\n' });
      expect(existsSync(credentialsPath(env))).toBe(false);
    });

    it('refreshes an expired access token before a request and saves the rotated pair', async () => {
      api.json('POST /api/v1/auth/login', 200, { ...authResult(1), expiresIn: 30 });
      api.json('POST /api/v1/auth/refresh', 200, authResult(2));
      meRoute();
      await cli(['login', '--email', 'ada@example.com', '--password', 'pw-123456']);
      expect((await cli(['whoami'])).code).toBe(0);
      expect(JSON.parse(api.find('POST', '/api/v1/auth/refresh')[0]!.body)).toEqual({
        refreshToken: 'dfr_refresh-1',
      });
      expect(api.find('GET', '/api/v1/auth/me')[0]!.headers.authorization).toBe('Bearer jwt-2');
      const saved = JSON.parse(readFileSync(credentialsPath(env), 'utf8'));
      expect(saved.sessions[`${api.url}/api/v1`]).toMatchObject({
        accessToken: 'jwt-2',
        refreshToken: 'dfr_refresh-2',
      });
    });

    it('refreshes after a 401 once, and forgets a session the server ended (exit 3)', async () => {
      api.json('POST /api/v1/auth/login', 200, authResult(1));
      await cli(['login', '--email', 'ada@example.com', '--password', 'pw-123456']);
      api.on('GET /api/v1/auth/me', (request, response) =>
        request.headers.authorization === 'Bearer jwt-2'
          ? send(response, 200, { id: USER, email: 'ada@example.com', isAdmin: false })
          : send(response, 401, apiError('UNAUTHENTICATED', 'expired')),
      );
      api.json('POST /api/v1/auth/refresh', 200, authResult(2));
      expect((await cli(['whoami'])).code).toBe(0);

      api.json('GET /api/v1/auth/me', 401, apiError('UNAUTHENTICATED', 'session ended'));
      api.json('POST /api/v1/auth/refresh', 401, apiError('UNAUTHENTICATED', 'refresh token reused'));
      const ended = await cli(['whoami']);
      expect(ended).toMatchObject({ code: ExitCode.AUTH, stderr: expect.stringContaining('docflow login') });
      expect(existsSync(credentialsPath(env))).toBe(false);
    });

    it('a credentials file that is not JSON is exit 3, naming the file', async () => {
      const file = credentialsPath(env);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, '{ not json');
      const result = await cli(['whoami']);
      expect(result).toMatchObject({ code: ExitCode.AUTH, stderr: expect.stringContaining(file) });
    });

    it('a credentials file that cannot be read is exit 3, naming the file', async () => {
      const file = credentialsPath(env);
      mkdirSync(file, { recursive: true }); // EISDIR; EACCES would do the same (the tests may run as root)
      const result = await cli(['whoami']);
      expect(result).toMatchObject({
        code: ExitCode.AUTH,
        stderr: expect.stringContaining(`cannot read ${file}`),
      });
    });

    it('logout ends the session on the server with its refresh token and forgets it', async () => {
      api.json('POST /api/v1/auth/login', 200, authResult(1));
      api.json('POST /api/v1/auth/logout', 204, undefined);
      await cli(['login', '--email', 'ada@example.com', '--password', 'pw-123456']);
      expect((await cli(['logout'])).code).toBe(0);
      const request = api.find('POST', '/api/v1/auth/logout')[0]!;
      expect(request.headers.authorization).toBe('Bearer jwt-1');
      expect(JSON.parse(request.body)).toEqual({ refreshToken: 'dfr_refresh-1' });
      expect(existsSync(credentialsPath(env))).toBe(false);
      expect((await cli(['logout'])).stdout).toContain('not signed in');
    });
  });

  describe('tokens and keys', () => {
    it('token create prints the token alone on stdout, with the scopes and expiry it was given', async () => {
      api.json('POST /api/v1/auth/tokens', 201, {
        id: 'tok-1',
        name: 'ci',
        scopes: ['documents:read', 'jobs:write'],
        prefix: 'dfp_abc',
        createdAt: '2026-01-01T00:00:00.000Z',
        token: 'dfp_the-new-token',
      });
      const before = Date.now();
      const result = await cli(
        ['token', 'create', '--name', 'ci', '--scope', 'documents:read', 'jobs:write', '--expires', '30d'],
        { env: withToken() },
      );
      expect(result).toMatchObject({ code: 0, stdout: 'dfp_the-new-token\n' });
      expect(result.stderr).toContain('shown only this once');
      const body = JSON.parse(api.find('POST', '/api/v1/auth/tokens')[0]!.body);
      expect(body).toMatchObject({ name: 'ci', scopes: ['documents:read', 'jobs:write'] });
      expect(Date.parse(body.expiresAt) - before).toBeGreaterThanOrEqual(30 * 86_400_000 - 1_000);
      expect(
        (
          await cli(['token', 'create', '--name', 'x', '--scope', 'a', '--expires', 'soon'], {
            env: withToken(),
          })
        ).code,
      ).toBe(ExitCode.USAGE);
    });

    it('token commands with a personal access token say to sign in instead (exit 3)', async () => {
      api.json(
        'GET /api/v1/auth/tokens',
        403,
        apiError('FORBIDDEN', 'Personal access tokens cannot do this'),
      );
      const result = await cli(['token', 'list'], { env: withToken() });
      expect(result).toMatchObject({
        code: ExitCode.AUTH,
        stderr: expect.stringContaining('unset DOCFLOW_TOKEN'),
      });
    });

    it('keys add reads the key from stdin only, sends it, and shows its last four characters', async () => {
      const key = 'sk-test-0123456789abcdefWXYZ';
      api.json('POST /api/v1/apikeys', 201, {
        id: 'key-1',
        name: 'mine',
        provider: 'openai',
        last4: 'WXYZ',
        createdAt: '2026-01-01T00:00:00.000Z',
      });
      const withoutFlag = await cli(['keys', 'add', '--name', 'mine', '--provider', 'openai'], {
        env: withToken(),
        stdin: key,
      });
      expect(withoutFlag.code).toBe(ExitCode.USAGE);
      const added = await cli(['keys', 'add', '--name', 'mine', '--provider', 'openai', '--key-stdin'], {
        env: withToken(),
        stdin: `${key}\n`,
      });
      expect(added).toMatchObject({ code: 0, stdout: expect.stringContaining('…WXYZ') });
      expect(added.stdout + added.stderr).not.toContain(key);
      expect(JSON.parse(api.find('POST', '/api/v1/apikeys')[0]!.body)).toEqual({
        name: 'mine',
        provider: 'openai',
        key,
      });
      expect(
        (
          await cli(['keys', 'add', '--name', 'm', '--provider', 'nobody', '--key-stdin'], {
            env: withToken(),
            stdin: key,
          })
        ).code,
      ).toBe(ExitCode.USAGE);
    });
  });

  describe('upload, run --follow, download', () => {
    /** The routes of the caller's documents and jobs, or (with `base` `/api/v1/teams/<id>`) a team's. */
    function platformRoutes(finalStatus = 'completed', base = `/api/v1/users/${USER}`) {
      meRoute();
      let stored = 0;
      api.on(`POST ${base}/docs`, (request, response) => {
        const body = JSON.parse(request.body) as { name: string; size: number };
        const id = body.name === 'a.txt' ? DOC_A : DOC_B;
        send(response, 201, {
          ...doc(id, body.name, 'pending_upload'),
          upload: {
            url: `${api.url}/bucket/${id}`,
            method: 'PUT',
            headers: { 'Content-Type': 'text/plain' },
            expiresAt: 'x',
          },
        });
      });
      for (const id of [DOC_A, DOC_B]) {
        api.on(`PUT /bucket/${id}`, (_request, response) => {
          stored++;
          send(response, 200, undefined);
        });
        // Pending on the first look, uploaded afterwards.
        let looks = 0;
        api.on(`GET ${base}/docs/${id}`, (_request, response) =>
          send(
            response,
            200,
            doc(id, id === DOC_A ? 'a.txt' : 'b.txt', looks++ === 0 ? 'pending_upload' : 'uploaded'),
          ),
        );
      }
      api.json(`POST ${base}/jobs`, 202, job('queued'));
      api.json(`GET ${base}/jobs/${JOB}`, 200, job(finalStatus));
      api.json(`DELETE ${base}/jobs/${JOB}`, 200, job('cancelled'));
      api.json(`GET ${base}/jobs`, 200, { items: [job(finalStatus)] });
      api.json(`GET ${base}/docs`, 200, { items: [doc(DOC_A, 'a.txt')] });
      api.json(`GET ${base}/docs/${OUT}`, 200, {
        ...doc(OUT, 'a.summarize.md', 'uploaded', { kind: 'output' }),
        download: { url: `${api.url}/bucket/out`, expiresAt: 'x' },
      });
      api.on('GET /bucket/out', (_request, response) => {
        response.writeHead(200, { 'content-type': 'text/markdown' }).end('# Summary\n');
      });
      return () => stored;
    }

    it('uploads files, starts the job, follows its events across a dropped connection with Last-Event-ID, downloads the output', async () => {
      const stored = platformRoutes();
      let connections = 0;
      api.on(`GET /api/v1/users/${USER}/jobs/${JOB}/events`, (_request, response) => {
        connections++;
        if (connections === 1)
          sse(
            response,
            [
              [1, 'job_started', { type: 'job_started' }],
              [2, 'stage_started', { inputId: DOC_A, stage: 'extract' }],
            ],
            'drop',
          );
        else
          sse(
            response,
            [
              [3, 'doc_completed', { inputId: DOC_A }],
              [4, 'job_completed', { status: 'completed', progress: 100 }],
            ],
            'hold',
          );
      });
      const dir = join(home, 'work');
      writeFileSync(join(home, 'a.txt'), 'hello');
      writeFileSync(join(home, 'b.txt'), 'world');
      const result = await cli(
        [
          'run',
          '--files',
          join(home, 'a.txt'),
          join(home, 'b.txt'),
          '--param',
          'tone=dry',
          '--follow',
          '--download-to',
          dir,
        ],
        { env: withToken() },
      );
      expect(result.stderr).toContain('reconnecting after event 2');
      expect(result).toMatchObject({ code: 0 });
      expect(stored()).toBe(2);
      const put = api.find('PUT', `/bucket/${DOC_A}`)[0]!;
      expect(put.headers).toMatchObject({ 'content-type': 'text/plain', 'content-length': '5' });
      expect(put.body).toBe('hello');
      const events = api.find('GET', `/api/v1/users/${USER}/jobs/${JOB}/events`);
      expect(events.map((r) => r.headers['last-event-id'])).toEqual([undefined, '2']);
      const create = api.find('POST', `/api/v1/users/${USER}/jobs`)[0]!;
      expect(JSON.parse(create.body)).toEqual({
        docIds: [DOC_A, DOC_B],
        options: { params: { tone: 'dry' } },
      });
      expect(create.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
      expect(result.stdout).toContain('a.txt: extract started');
      expect(result.stdout).toContain('a.txt: completed');
      expect(readFileSync(join(dir, 'a.summarize.md'), 'utf8')).toBe('# Summary\n');
      expect(result.stdout).toContain(`job ${JOB} completed: 1 output`);
    });

    it('--json while following: one JSON object per line, the last one the result', async () => {
      platformRoutes();
      api.on(`GET /api/v1/users/${USER}/jobs/${JOB}/events`, (_request, response) =>
        sse(
          response,
          [
            [1, 'job_started', {}],
            [2, 'heartbeat', {}],
            [3, 'job_completed', { status: 'completed' }],
          ],
          'end',
        ),
      );
      const result = await cli(
        ['--json', 'run', '--docs', DOC_A, '--follow', '--idempotency-key', 'build-42'],
        { env: withToken() },
      );
      expect(result.code).toBe(0);
      const lines = result.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.map((l) => l.event)).toEqual(['created', 'job_started', 'job_completed', 'result']);
      expect(lines.at(-1).job.status).toBe('completed');
      expect(api.find('POST', `/api/v1/users/${USER}/jobs`)[0]!.headers['idempotency-key']).toBe('build-42');
    });

    it.each([
      ['failed', [], ExitCode.FAILED],
      ['cancelled', [], ExitCode.FAILED],
      ['completed_with_errors', [], ExitCode.OK],
      ['completed_with_errors', ['--fail-on-errors'], ExitCode.FAILED],
    ])('exits by the final status: %s %j → %d', async (status, flags, code) => {
      platformRoutes(status);
      api.on(`GET /api/v1/users/${USER}/jobs/${JOB}/events`, (_request, response) =>
        sse(
          response,
          [
            [
              1,
              `job_${status === 'cancelled' ? 'cancelled' : status === 'failed' ? 'failed' : 'completed'}`,
              {},
            ],
          ],
          'end',
        ),
      );
      expect((await cli(['run', '--docs', DOC_A, '--follow', ...flags], { env: withToken() })).code).toBe(
        code,
      );
    });

    it(
      'DOCFLOW_SSE_IDLE_MS sets how long a silent stream is given before reconnecting',
      async () => {
        platformRoutes();
        let connections = 0;
        api.on(`GET /api/v1/users/${USER}/jobs/${JOB}/events`, (_request, response) =>
          ++connections === 1
            ? sse(response, [[1, 'job_started', {}]], 'hold')
            : sse(response, [[2, 'job_completed', {}]], 'end'),
        );
        const result = await cli(['jobs', 'follow', JOB], {
          env: { ...withToken(), DOCFLOW_SSE_IDLE_MS: '1000' },
        });
        expect(result.code).toBe(0);
        expect(result.stderr).toContain('no data (not even a heartbeat)');
      },
      // The default (45 s) would not be over by then.
      10_000,
    );

    it.each(['abc', '0', '999', '1.5', '-5', '3600001'])(
      'DOCFLOW_SSE_IDLE_MS=%s is exit 2 before anything is started',
      async (value) => {
        platformRoutes();
        for (const argv of [
          ['run', '--docs', DOC_A, '--follow'],
          ['jobs', 'follow', JOB],
        ]) {
          const result = await cli(argv, { env: { ...withToken(), DOCFLOW_SSE_IDLE_MS: value } });
          expect({ argv, code: result.code }).toEqual({ argv, code: ExitCode.USAGE });
          expect(result.stderr).toContain('DOCFLOW_SSE_IDLE_MS');
        }
        expect(api.requests).toEqual([]);
      },
    );

    it('without --follow prints the job id and exits 0 at once', async () => {
      platformRoutes();
      const result = await cli(['run', '--docs', DOC_A], { env: withToken() });
      expect(result).toMatchObject({ code: 0, stdout: `${JOB}\n` });
      expect(api.find('GET', `/api/v1/users/${USER}/jobs/${JOB}/events`)).toEqual([]);
    });

    it('download streams to -o, into a folder, or to stdout; docs get never shows the presigned URL', async () => {
      platformRoutes();
      const file = join(home, 'summary.md');
      expect((await cli(['download', OUT, '-o', file], { env: withToken() })).code).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe('# Summary\n');
      expect((await cli(['download', OUT, '-o', home], { env: withToken() })).stdout).toBe(
        `${join(home, 'a.summarize.md')}\n`,
      );
      expect((await cli(['download', OUT, '-o', '-'], { env: withToken() })).stdout).toBe('# Summary\n');
      const shown = await cli(['--json', 'docs', 'get', OUT], { env: withToken() });
      expect(JSON.parse(shown.stdout)).toMatchObject({ id: OUT, status: 'uploaded' });
      expect(shown.stdout).not.toContain('/bucket/out');
    });

    it('a document the storage rejected is exit 1, with the reason', async () => {
      platformRoutes();
      api.json(
        `GET /api/v1/users/${USER}/docs/${DOC_A}`,
        200,
        doc(DOC_A, 'a.txt', 'rejected', { statusReason: 'stored size 4 differs from the declared 5' }),
      );
      writeFileSync(join(home, 'a.txt'), 'hello');
      const result = await cli(['upload', join(home, 'a.txt')], { env: withToken() });
      expect(result).toMatchObject({
        code: ExitCode.FAILED,
        stderr: expect.stringContaining('was rejected: stored size 4 differs from the declared 5'),
      });
    });

    describe('--team', () => {
      const teamBase = `/api/v1/teams/${TEAM}`;

      it('run --files --follow --download-to: uploads to the team, starts, follows and downloads through its routes only', async () => {
        platformRoutes('completed', teamBase);
        api.on(`GET ${teamBase}/jobs/${JOB}/events`, (_request, response) =>
          sse(
            response,
            [
              [1, 'doc_completed', { inputId: DOC_A }],
              [2, 'job_completed', { status: 'completed', progress: 100 }],
            ],
            'end',
          ),
        );
        const dir = join(home, 'team-out');
        writeFileSync(join(home, 'a.txt'), 'hello');
        const result = await cli(
          ['run', '--files', join(home, 'a.txt'), '--team', TEAM, '--follow', '--download-to', dir],
          { env: withToken() },
        );
        expect(result).toMatchObject({ code: 0 });
        expect(result.stdout).toContain(`job ${JOB} completed: 1 output`);
        expect(readFileSync(join(dir, 'a.summarize.md'), 'utf8')).toBe('# Summary\n');
        expect(api.find('PUT', `/bucket/${DOC_A}`)[0]!.body).toBe('hello');
        expect(JSON.parse(api.find('POST', `${teamBase}/jobs`)[0]!.body)).toEqual({ docIds: [DOC_A] });
        // Every API request went to the team's routes; the user id was never needed (no /auth/me).
        const apiPaths = api.requests.map((r) => `${r.method} ${r.path}`).filter((p) => p.includes('/api/'));
        expect(apiPaths).toEqual([
          `POST ${teamBase}/docs`,
          `GET ${teamBase}/docs/${DOC_A}`,
          `GET ${teamBase}/docs/${DOC_A}`,
          `POST ${teamBase}/jobs`,
          `GET ${teamBase}/jobs/${JOB}/events`,
          `GET ${teamBase}/jobs/${JOB}`,
          `GET ${teamBase}/docs/${OUT}`,
        ]);
      });

      it("every documents and jobs command takes --team and uses the team's routes", async () => {
        platformRoutes('completed', teamBase);
        api.on(`GET ${teamBase}/jobs/${JOB}/events`, (_request, response) =>
          sse(response, [[1, 'job_completed', { status: 'completed' }]], 'end'),
        );
        writeFileSync(join(home, 'b.txt'), 'world');
        const commands: [string[], string][] = [
          [['upload', join(home, 'b.txt')], `POST ${teamBase}/docs`],
          [['docs', 'list'], `GET ${teamBase}/docs`],
          [['docs', 'get', OUT], `GET ${teamBase}/docs/${OUT}`],
          [['download', OUT, '-o', join(home, 'out.md')], `GET ${teamBase}/docs/${OUT}`],
          [['run', '--docs', DOC_A], `POST ${teamBase}/jobs`],
          [['jobs', 'list', '--status', 'completed'], `GET ${teamBase}/jobs`],
          [['jobs', 'get', JOB], `GET ${teamBase}/jobs/${JOB}`],
          [['jobs', 'cancel', JOB], `DELETE ${teamBase}/jobs/${JOB}`],
          [['jobs', 'follow', JOB], `GET ${teamBase}/jobs/${JOB}/events`],
        ];
        for (const [argv, expected] of commands) {
          const before = api.requests.length;
          const result = await cli([...argv, '--team', TEAM], { env: withToken() });
          const sent = api.requests.slice(before).map((r) => `${r.method} ${r.path}`);
          expect({ argv, code: result.code, first: sent[0] }).toEqual({ argv, code: 0, first: expected });
          expect(sent.filter((p) => p.includes('/users/') || p.includes('/auth/me'))).toEqual([]);
        }
        expect(readFileSync(join(home, 'out.md'), 'utf8')).toBe('# Summary\n');
        expect(api.find('GET', `${teamBase}/jobs`)[0]!.query).toContain('status=completed');
      });

      it('a malformed team id is exit 2 before any request, for every command that takes --team', async () => {
        for (const argv of [
          ['upload', 'a.txt'],
          ['docs', 'list'],
          ['docs', 'get', DOC_A],
          ['download', DOC_A],
          ['run', '--docs', DOC_A],
          ['jobs', 'list'],
          ['jobs', 'get', JOB],
          ['jobs', 'cancel', JOB],
          ['jobs', 'follow', JOB],
          ['keys', 'list'],
        ]) {
          const result = await cli([...argv, '--team', 'research'], { env: withToken() });
          expect({ argv, code: result.code }).toEqual({ argv, code: ExitCode.USAGE });
          expect(result.stderr).toContain("option '--team <teamId>' argument 'research' is invalid");
        }
        expect(api.requests).toEqual([]);
      });

      it("the API's 404 (not a member) and 403 (a role that may not) are exit 4 and 3 with its message", async () => {
        api.json(`GET ${teamBase}/jobs/${JOB}`, 404, apiError('NOT_FOUND', `team ${TEAM} not found`));
        api.json(
          `POST ${teamBase}/jobs`,
          403,
          apiError('FORBIDDEN', 'your role in the team (reader) does not allow job.create'),
        );
        expect(await cli(['jobs', 'get', JOB, '--team', TEAM], { env: withToken() })).toEqual({
          code: ExitCode.NOT_FOUND,
          stdout: '',
          stderr: `docflow: team ${TEAM} not found (HTTP 404 NOT_FOUND, request req-1)\n`,
        });
        expect(await cli(['run', '--docs', DOC_A, '--team', TEAM], { env: withToken() })).toEqual({
          code: ExitCode.AUTH,
          stdout: '',
          stderr:
            'docflow: your role in the team (reader) does not allow job.create (HTTP 403 FORBIDDEN, request req-1)\n',
        });
      });

      it('teams list shows id, name and your role, every page', async () => {
        const second = '88888888-8888-4888-8888-888888888888';
        api.on('GET /api/v1/teams', (request, response) =>
          send(
            response,
            200,
            new URLSearchParams(request.query).get('cursor')
              ? {
                  items: [{ id: second, name: 'Ops', role: 'reader', createdAt: '2026-01-02T00:00:00.000Z' }],
                }
              : {
                  items: [
                    { id: TEAM, name: 'Research', role: 'owner', createdAt: '2026-01-01T00:00:00.000Z' },
                  ],
                  nextCursor: 'p2',
                },
          ),
        );
        const listed = await cli(['teams', 'list'], { env: withToken() });
        expect(listed.code).toBe(0);
        expect(listed.stdout).toMatch(new RegExp(`${TEAM}\\s+Research\\s+owner`));
        expect(listed.stdout).toMatch(new RegExp(`${second}\\s+Ops\\s+reader`));
        const json = await cli(['--json', 'teams', 'list'], { env: withToken() });
        expect(JSON.parse(json.stdout).items.map((t: { role: string }) => t.role)).toEqual([
          'owner',
          'reader',
        ]);
      });
    });

    it('a missing file is a usage error before anything is sent', async () => {
      meRoute();
      const result = await cli(['upload', join(home, 'nope.txt')], { env: withToken() });
      expect(result).toMatchObject({
        code: ExitCode.USAGE,
        stderr: expect.stringContaining('nope.txt: no such file'),
      });
      expect(api.find('POST', `/api/v1/users/${USER}/docs`)).toEqual([]);
    });
  });
  describe('jobs list filters, run --batch-size', () => {
    it('sends every filter with every page, and lists what the API answers', async () => {
      meRoute();
      const second = '66666666-6666-4666-8666-666666666666';
      api.on(`GET /api/v1/users/${USER}/jobs`, (request, response) => {
        const query = new URLSearchParams(request.query);
        send(
          response,
          200,
          query.get('cursor')
            ? { items: [job('running', { id: second })] }
            : { items: [job('queued')], nextCursor: 'page-2' },
        );
      });
      const result = await cli(
        [
          'jobs',
          'list',
          '--status',
          'queued,running,queued',
          '--crew',
          'translate',
          '--strategy',
          'object',
          '--created-after',
          '2026-01-01T00:00:00+01:00',
          '--created-before',
          '2026-02-01T00:00:00Z',
          '--doc',
          DOC_A,
        ],
        { env: withToken() },
      );
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(JOB);
      expect(result.stdout).toContain(second);
      const queries = api
        .find('GET', `/api/v1/users/${USER}/jobs`)
        .map((r) => Object.fromEntries(new URLSearchParams(r.query)));
      const filters = {
        status: 'queued,running',
        crew: 'translate',
        strategy: 'object',
        createdAfter: '2026-01-01T00:00:00+01:00',
        createdBefore: '2026-02-01T00:00:00Z',
        docId: DOC_A,
        limit: '100',
      };
      expect(queries).toEqual([filters, { ...filters, cursor: 'page-2' }]);
    });

    it('refuses a bad filter or batch size with exit 2 before anything is sent', async () => {
      for (const argv of [
        ['jobs', 'list', '--status', 'done'],
        ['jobs', 'list', '--status', 'running,'],
        ['jobs', 'list', '--strategy', 'sideways'],
        ['jobs', 'list', '--created-after', '2026-01-01'],
        ['jobs', 'list', '--created-before', '2026-02-30T00:00:00Z'],
        ['run', '--docs', DOC_A, '--strategy', 'object', '--batch-size', '0'],
        ['run', '--docs', DOC_A, '--strategy', 'object', '--batch-size', '101'],
        ['run', '--docs', DOC_A, '--strategy', 'object', '--batch-size', '2.5'],
        ['run', '--docs', DOC_A, '--batch-size', '5'],
        ['run', '--files', 'a.txt', '--strategy', 'individual', '--batch-size', '5'],
      ]) {
        const result = await cli(argv, { env: withToken() });
        expect({ argv, code: result.code }).toEqual({ argv, code: ExitCode.USAGE });
      }
      expect(api.requests).toEqual([]);
      const flag = await cli(['jobs', 'list', '--created-after', 'yesterday'], { env: withToken() });
      expect(flag.stderr).toContain("'--created-after <time>' argument 'yesterday' is invalid");
    });

    it('a filter the API refuses is exit 2, naming it', async () => {
      meRoute();
      api.json(
        `GET /api/v1/users/${USER}/jobs`,
        400,
        apiError('VALIDATION_FAILED', 'docId: must be a document id (UUID)', [
          { field: 'docId', message: 'must be a document id (UUID)' },
        ]),
      );
      const result = await cli(['jobs', 'list', '--doc', 'nope'], { env: withToken() });
      expect(result.code).toBe(ExitCode.USAGE);
      expect(result.stderr).toContain('docflow:   docId: must be a document id (UUID)');
    });

    it('run --strategy object --batch-size sends options.batchSize; jobs get shows it', async () => {
      meRoute();
      api.json(`POST /api/v1/users/${USER}/jobs`, 202, job('queued', { strategy: 'object', batchSize: 25 }));
      api.json(
        `GET /api/v1/users/${USER}/jobs/${JOB}`,
        200,
        job('completed', { strategy: 'object', batchSize: 25 }),
      );
      const result = await cli(
        ['run', '--docs', DOC_A, DOC_B, '--strategy', 'object', '--batch-size', '25'],
        {
          env: withToken(),
        },
      );
      expect(result).toMatchObject({ code: 0, stdout: `${JOB}\n` });
      expect(JSON.parse(api.find('POST', `/api/v1/users/${USER}/jobs`)[0]!.body)).toEqual({
        docIds: [DOC_A, DOC_B],
        strategy: 'object',
        options: { batchSize: 25 },
      });
      expect((await cli(['jobs', 'get', JOB], { env: withToken() })).stdout).toContain(
        'strategy: object\nbatch size: 25\n',
      );
    });
  });
});
