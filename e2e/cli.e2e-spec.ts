// The CLI as a CI pipeline runs it: the built apps/cli/dist/main.js as a child process against the local
// platform. A person signs in with `docflow login` and makes a token with `docflow token create`; the pipeline
// then has only DOCFLOW_TOKEN (and an empty config folder) and uploads, runs, follows and downloads.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, json, signup, startPlatform, type RunningPlatform, type TestUser } from './platform';

const CLI = join(ROOT, 'apps/cli/dist/main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const REPORT = (n: number) =>
  `# Quarterly report ${n}\n\n` +
  Array.from(
    { length: 20 },
    (_, i) => `Finding ${i}: revenue in region ${i % 5} grew by ${i + n} percent.`,
  ).join('\n');

describe('docflow CLI against the local platform', () => {
  let platform: RunningPlatform;
  let user: TestUser;
  let work: string;
  /** Every line any run printed: no secret may be among them. */
  const printed: string[] = [];

  beforeAll(async () => {
    platform = await startPlatform('cli');
    user = await signup(platform.api, 'CLI User');
    work = mkdtempSync(join(tmpdir(), 'docflow-cli-e2e-'));
  });

  afterAll(async () => {
    await platform?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Runs `docflow <args>` with only what a CI runner would give it. */
  function docflow(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        cwd: work,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: join(work, 'home'),
          XDG_CONFIG_HOME: join(work, 'person-config'),
          DOCFLOW_API_URL: platform.api,
          ...env,
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('error', reject);
      child.once('close', (code) => {
        printed.push(stdout, stderr);
        resolve({ code, stdout, stderr });
      });
      child.stdin.end(stdin ?? '');
    });
  }

  let token: string;
  let tokenId: string;
  let ci: Record<string, string>;

  it('a person signs in with docflow login (password on stdin) and makes a CI token with docflow token create', async () => {
    const login = await docflow(
      ['login', '--email', user.email, '--password-stdin'],
      {},
      `${user.password}\n`,
    );
    expect(login).toMatchObject({ code: 0, stdout: expect.stringContaining(user.email) });
    const saved = join(work, 'person-config', 'docflow', 'credentials.json');
    expect(statSync(saved).mode & 0o777).toBe(0o600);

    const whoami = await docflow(['--json', 'whoami']);
    expect(whoami.code).toBe(0);
    expect(JSON.parse(whoami.stdout)).toMatchObject({
      id: user.id,
      email: user.email,
      credentials: 'saved login',
    });

    const created = await docflow([
      'token',
      'create',
      '--name',
      'ci-pipeline',
      '--scope',
      'profile:read',
      'documents:read',
      'documents:write',
      'jobs:read',
      'jobs:write',
      'teams:read',
      '--expires',
      '1d',
    ]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^dfp_\S+\n$/);
    token = created.stdout.trim();
    ci = { DOCFLOW_TOKEN: token, XDG_CONFIG_HOME: join(work, 'ci-config') };

    const list = await docflow(['--json', 'token', 'list']);
    const items = (JSON.parse(list.stdout) as { items: { id: string; name: string }[] }).items;
    expect(items.map((t) => t.name)).toEqual(['ci-pipeline']);
    expect(list.stdout).not.toContain(token);
    tokenId = items[0]!.id;
  });

  it('the pipeline, with DOCFLOW_TOKEN only, uploads two files, runs a job over them, follows it and downloads the outputs', async () => {
    writeFileSync(join(work, 'q1.txt'), REPORT(1));
    writeFileSync(join(work, 'q2.md'), REPORT(2));
    const out = join(work, 'outputs');
    const run = await docflow(['run', '--files', 'q1.txt', 'q2.md', '--follow', '--download-to', out], ci);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(run.stdout).toContain('q1.txt: extract started');
    expect(run.stdout).toContain('q2.md: completed');
    expect(run.stdout).toMatch(/job [0-9a-f-]{36} completed: 2 outputs/);

    const files = readdirSync(out).sort();
    expect(files).toEqual(['q1.summarize.md', 'q2.summarize.md']);
    for (const file of files) {
      const text = readFileSync(join(out, file), 'utf8');
      expect(text).toContain('## Summary');
      expect(text).toMatch(/revenue in region/);
    }

    // The same documents again by id, JSON lines this time; the outputs are listed as documents of the user.
    const docs = JSON.parse((await docflow(['--json', 'docs', 'list'], ci)).stdout) as {
      items: { id: string; name: string; kind: string }[];
    };
    expect(docs.items.filter((d) => d.kind === 'output')).toHaveLength(2);
    const q1 = docs.items.find((d) => d.name === 'q1.txt')!;
    const again = await docflow(['--json', 'run', '--docs', q1.id, '--follow'], ci);
    expect(again.code).toBe(0);
    const lines = again.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; job?: { status: string } });
    expect(lines[0]!.event).toBe('created');
    expect(lines.map((l) => l.event)).toContain('doc_completed');
    expect(lines.at(-1)).toMatchObject({ event: 'result', job: { status: 'completed' } });

    const download = await docflow(['download', q1.id, '-o', '-'], ci);
    expect(download).toMatchObject({ code: 0, stdout: REPORT(1) });
  });

  it("for a team: teams list finds it; upload --team, then run --team --follow --download-to gets the team's outputs", async () => {
    // The team is made through the API (the CLI does not manage teams); the pipeline's token acts as its owner.
    const made = await json<{ id: string }>(`${platform.api}/teams`, {
      method: 'POST',
      body: { name: 'CLI Team' },
      headers: { authorization: user.authorization },
    });
    expect(made.status).toBe(201);
    const teamId = made.body.id;
    const teams = JSON.parse((await docflow(['--json', 'teams', 'list'], ci)).stdout) as {
      items: { id: string; name: string; role: string }[];
    };
    expect(teams.items).toEqual([expect.objectContaining({ id: teamId, name: 'CLI Team', role: 'owner' })]);

    writeFileSync(join(work, 'team.txt'), REPORT(3));
    const upload = await docflow(['--json', 'upload', 'team.txt', '--team', teamId], ci);
    expect(upload.code).toBe(0);
    const [uploaded] = JSON.parse(upload.stdout) as { id: string; teamId?: string }[];
    expect(uploaded!.teamId).toBe(teamId);

    const out = join(work, 'team-outputs');
    const run = await docflow(
      ['run', '--docs', uploaded!.id, '--team', teamId, '--follow', '--download-to', out],
      ci,
    );
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(run.stdout).toMatch(/job [0-9a-f-]{36} completed: 1 output/);
    expect(readdirSync(out)).toEqual(['team.summarize.md']);
    expect(readFileSync(join(out, 'team.summarize.md'), 'utf8')).toContain('## Summary');

    // The team's document and job, not the user's: their routes do not find them.
    expect((await docflow(['docs', 'get', uploaded!.id], ci)).code).toBe(4);
    const jobs = JSON.parse((await docflow(['--json', 'jobs', 'list', '--team', teamId], ci)).stdout) as {
      items: { teamId?: string }[];
    };
    expect(jobs.items).toEqual([expect.objectContaining({ teamId })]);
  });

  it('exit 2 for a bad --strategy and for input the API refuses (naming its field), 4 for an unknown document', async () => {
    const strategy = await docflow(['run', '--docs', randomUUID(), '--strategy', 'sideways'], ci);
    expect(strategy.code).toBe(2);
    expect(strategy.stderr).toContain("option '--strategy <strategy>' argument 'sideways' is invalid");

    const scope = await docflow(['token', 'create', '--name', 'bad', '--scope', 'everything:all']);
    expect(scope.code).toBe(2);
    expect(scope.stderr).toMatch(/docflow: {3}scopes: each must be one of/);

    const missing = randomUUID();
    for (const args of [
      ['docs', 'get', missing],
      ['download', missing],
      ['run', '--docs', missing],
    ]) {
      const result = await docflow(args, ci);
      expect({ args, code: result.code }).toEqual({ args, code: 4 });
      expect(result.stderr).toContain('HTTP 404');
    }
  });

  it('a revoked token is exit 3; logout ends the saved session', async () => {
    expect((await docflow(['token', 'revoke', tokenId])).code).toBe(0);
    const refused = await docflow(['docs', 'list'], ci);
    expect(refused.code).toBe(3);

    expect((await docflow(['logout'])).code).toBe(0);
    expect(existsSync(join(work, 'person-config', 'docflow', 'credentials.json'))).toBe(false);
    expect((await docflow(['whoami'])).code).toBe(3);
  });

  it('printed no secret: neither the password nor the token after its creation', () => {
    const all = printed.join('\n');
    expect(all).not.toContain(user.password);
    // Once, on stdout of `token create`.
    expect(all.split(token).length - 1).toBe(1);
  });
});
