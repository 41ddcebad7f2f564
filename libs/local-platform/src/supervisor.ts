import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
}

export interface SpawnServiceOptions {
  name: string;
  script: string;
  env: Record<string, string>;
  /** Where each output line goes; `undefined` drops output. */
  output?: (name: string, line: string) => void;
}

/** Runs a Node.js entrypoint as a child process in its own process group, forwarding its output by line. */
export function spawnService({ name, script, env, output }: SpawnServiceOptions): ServiceProcess {
  const child = spawn(process.execPath, ['--enable-source-maps', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    const lines = createInterface({ input: stream });
    lines.on('line', (line) => output?.(name, line));
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, child, exited };
}

/** SIGTERM, then SIGKILL after `graceMs` (long enough for the jobs service to stop its own steps first). */
export async function stopService(service: ServiceProcess, graceMs = 10_000): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  const pid = service.child.pid;
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (pid) process.kill(-pid, sig);
    } catch {
      service.child.kill(sig);
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), graceMs);
  await service.exited;
  clearTimeout(timer);
}

/** Runs an entrypoint to completion; rejects with its output when it exits non-zero. */
export async function runToCompletion(options: Omit<SpawnServiceOptions, 'output'>): Promise<void> {
  const lines: string[] = [];
  const service = spawnService({ ...options, output: (_n, line) => lines.push(line) });
  const code = await service.exited;
  if (code !== 0) throw new Error(`${options.name} exited with ${code}:\n${lines.join('\n')}`);
}
