import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { actionFor } from './commands/action';
import { authCommands } from './commands/auth';
import { documentCommands } from './commands/documents';
import { jobCommands } from './commands/jobs';
import { keyCommands } from './commands/keys';
import { teamCommands } from './commands/teams';
import { DEFAULT_API, type CliIo } from './context';
import { ApiError, CliError, ExitCode } from './errors';

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return '0.0.0';
  }
}

export function buildProgram(io: CliIo, outcome: { exitCode: number }): Command {
  const program = new Command('docflow')
    .description(
      "docflow from the command line and CI pipelines: documents, jobs (yours or a team's), tokens, provider keys, teams",
    )
    .version(version(), '-V, --version')
    .option('--api <url>', `the public API (env DOCFLOW_API_URL; default ${DEFAULT_API})`)
    .option('--json', 'machine-readable output: JSON on stdout (JSON lines while following a job)')
    .option('--user <id>', 'your user id (env DOCFLOW_USER_ID), when the token may not read GET /auth/me')
    .addHelpText(
      'after',
      '\nCredentials: DOCFLOW_TOKEN (a personal access token, dfp_…) or the login `docflow login` saved.\n' +
        'Exit codes: 0 ok, 1 job failed (or refused), 2 usage, 3 auth, 4 not found, 5 server or network.',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showSuggestionAfterError();
  const action = actionFor(io, outcome);
  for (const command of [
    ...authCommands(action),
    ...documentCommands(action),
    ...jobCommands(action),
    ...keyCommands(action),
    ...teamCommands(action),
  ])
    program.addCommand(command);
  // Commands made with `new Command()` inherit nothing: give each the program's error handling and output.
  const inherit = (command: Command) => {
    for (const sub of command.commands) {
      sub.copyInheritedSettings(command);
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}

/** Runs the CLI on `argv` (without node and the script); resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const outcome = { exitCode: ExitCode.OK as number };
  const program = buildProgram(io, outcome);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return outcome.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has written its message (or the help) already.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.OK;
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    return report(error, io, argv.includes('--json'));
  }
}

/** The error on stderr, one line per field the API named; its exit code. */
function report(error: unknown, io: CliIo, json: boolean): number {
  if (!(error instanceof CliError)) {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(
      json
        ? `${JSON.stringify({ error: { message, exitCode: ExitCode.FAILED } })}\n`
        : `docflow: ${message}\n`,
    );
    return ExitCode.FAILED;
  }
  if (json) {
    const api =
      error instanceof ApiError
        ? { status: error.status, code: error.code, fields: error.fields, requestId: error.requestId }
        : {};
    io.stderr.write(
      `${JSON.stringify({ error: { message: error.message, exitCode: error.exitCode, ...api } })}\n`,
    );
    return error.exitCode;
  }
  const where =
    error instanceof ApiError
      ? ` (HTTP ${error.status}${error.code ? ` ${error.code}` : ''}${error.requestId ? `, request ${error.requestId}` : ''})`
      : '';
  io.stderr.write(`docflow: ${error.message}${where}\n`);
  for (const line of error.lines) io.stderr.write(`docflow:   ${line}\n`);
  return error.exitCode;
}
