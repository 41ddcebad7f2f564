// The README's quick start: `npm run demo` (after the build that `npm test` already did) must keep working.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropDatabase } from '@docflow/database';
import { freePort } from '@docflow/local-platform';
import { ROOT } from './platform';

describe('the quick start demo', () => {
  it('walks a document through upload and download, then transforms it with the worker step', async () => {
    const server = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
    server.pathname = `/docflow_e2e_demo_${randomBytes(4).toString('hex')}`;
    const home = mkdtempSync(join(tmpdir(), 'docflow-demo-'));
    const output: string[] = [];
    try {
      const env = {
        ...process.env,
        DATABASE_URL: server.toString(),
        NATS_URL: `nats://127.0.0.1:${await freePort()}`,
        HTTP_PORT: String(await freePort()),
        PRIVATE_HTTP_PORT: String(await freePort()),
        S3_PORT: String(await freePort()),
        DOCFLOW_HOME: home,
      };
      const child = spawn(process.execPath, [join(ROOT, 'tools/local/demo.js')], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (d) => output.push(String(d)));
      child.stderr!.on('data', (d) => output.push(String(d)));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      const text = output.join('');
      expect({ code, tail: text.slice(-400) }).toEqual({ code: 0, tail: expect.any(String) });
      for (const step of [
        '[1] POST',
        '[2] POST',
        '[3] PUT',
        '[4] wait',
        '[5] download',
        '[6] POST',
        '[7] GET',
        '[8] GET',
      ]) {
        expect(text).toContain(step);
      }
      expect(text).toMatch(/status uploaded after \d+ ms/);
      // The job's events, live, in order: started, the three stages, the document, the job.
      const events = [...text.matchAll(/^ {4}event (\w+)/gm)].map((m) => m[1]);
      expect(events[0]).toBe('job_started');
      expect(events.filter((e) => e === 'stage_completed')).toHaveLength(3);
      expect(events.slice(-2)).toEqual(['doc_completed', 'job_completed']);
      expect(text).toMatch(/quarterly-report\.summarize\.md: output, from job /);
      expect(text).toContain('| ## Summary');
      expect(text).toContain('| Revenue grew 12% quarter over quarter');
      expect(text).toContain('transformed by an agent crew');
    } finally {
      await dropDatabase(server.toString()).catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    }
  });
});
