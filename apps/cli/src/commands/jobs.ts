import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  JOB_STATUSES,
  JOB_STRATEGIES,
  OBJECT_BATCH_SIZE_MAX,
  OBJECT_BATCH_SIZE_MIN,
  TERMINAL_JOB_STATUSES,
  parseInstant,
  type Job,
  type JobInputPage,
  type JobStatus,
} from '@docflow/contracts';
import { CliError, ExitCode } from '../errors';
import { followJobEvents, idleTimeoutFromEnv, type JobStreamEvent } from '../job-events';
import { table } from '../output';
import { downloadDocument } from '../transfer';
import type { Context } from '../context';
import { ownerPath, teamOption, type OwnerPath } from '../owner';
import type { Action } from './action';
import { allPages } from './auth';
import { positiveInt, safeName, uploadFiles } from './documents';

const TERMINAL = new Set<JobStatus>(TERMINAL_JOB_STATUSES);

interface FollowOptions {
  follow?: boolean;
  downloadTo?: string;
  failOnErrors?: boolean;
}

const followOptions = (command: Command) =>
  command
    .option('--download-to <dir>', 'when the job has ended, download its outputs into this folder')
    .option(
      '--fail-on-errors',
      'exit 1 when the job ends completed_with_errors (failed and cancelled always do)',
    );

export function jobCommands(action: Action): Command[] {
  const run = followOptions(
    new Command('run')
      .description('start a job over documents (or files, uploaded first)')
      .option('--docs <ids...>', 'the documents (ids)')
      .option('--files <paths...>', 'files to upload first, then run over')
      .option(
        '--crew <crew>',
        'the crew: summarize, translate, extract, rewrite, review (the API default: summarize)',
      )
      .addOption(new Option('--strategy <strategy>', 'how documents form inputs').choices(JOB_STRATEGIES))
      .option(
        '--batch-size <n>',
        `with --strategy object: documents per input, ${OBJECT_BATCH_SIZE_MIN} to ${OBJECT_BATCH_SIZE_MAX} (the API default: 10)`,
        batchSize,
      )
      .option('--param <key=value...>', 'a crew parameter (repeat it), e.g. targetLanguage=French')
      .option('--api-key-id <id>', 'a stored provider key (docflow keys list) for the model calls')
      .option('--idempotency-key <key>', 'the same key gives the same job (default: a new one per run)')
      .option('--follow', "print the job's events until it ends; the exit code says how it ended")
      .addOption(
        teamOption("a job of the team's, over the team's documents (--files are uploaded to the team)"),
      ),
  ).action(
    action(
      async (
        ctx,
        _args,
        options: FollowOptions & {
          docs?: string[];
          files?: string[];
          crew?: string;
          strategy?: string;
          batchSize?: number;
          param?: string[];
          apiKeyId?: string;
          idempotencyKey?: string;
          team?: string;
        },
      ) => {
        if (Boolean(options.docs) === Boolean(options.files))
          throw new CliError('give either --docs <ids...> or --files <paths...>', ExitCode.USAGE);
        if (options.batchSize !== undefined && options.strategy !== 'object')
          throw new CliError('--batch-size: only with --strategy object', ExitCode.USAGE);
        const params = parseParams(options.param ?? []);
        // Checked before anything is uploaded or started.
        const idleTimeoutMs =
          options.follow || options.downloadTo ? idleTimeoutFromEnv(ctx.io.env) : undefined;
        const client = ctx.client();
        const owner = await ownerPath(client, options.team);
        const names = new Map<string, string>();
        let docIds = options.docs ?? [];
        if (options.files) {
          const docs = await uploadFiles(ctx, options.files, { waitSeconds: 120, team: options.team });
          for (const doc of docs) names.set(doc.id, doc.name);
          docIds = docs.map((d) => d.id);
        }
        const optionsBody = {
          ...(Object.keys(params).length ? { params } : {}),
          ...(options.apiKeyId ? { apiKeyId: options.apiKeyId } : {}),
          ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
        };
        const job = await client.request<Job>('POST', `${owner}/jobs`, {
          body: {
            docIds,
            ...(options.crew ? { crew: options.crew } : {}),
            ...(options.strategy ? { strategy: options.strategy } : {}),
            ...(Object.keys(optionsBody).length ? { options: optionsBody } : {}),
          },
          // A key of our own when none is given, so resending after a dropped connection starts one job.
          headers: { 'idempotency-key': options.idempotencyKey ?? randomUUID() },
          retry: true,
        });
        if (!options.follow && !options.downloadTo) {
          ctx.out.result(job, () => [job.id]);
          return;
        }
        if (ctx.out.json) ctx.out.jsonLine({ event: 'created', job });
        else ctx.out.lines(`job ${job.id} ${job.status}`);
        await waitAndReport(ctx, owner, job.id, options, names, idleTimeoutMs);
      },
    ),
  );

  const jobs = new Command('jobs').description("your jobs (or a team's, with --team)");
  jobs
    .command('list')
    .description('your jobs, newest first; the filters combine (all must hold)')
    .option(
      '--status <statuses>',
      `only jobs in one of these statuses, comma-separated: ${JOB_STATUSES.join(', ')}`,
      statusList,
    )
    .option('--crew <crew>', 'only jobs of this crew (its exact name)')
    .addOption(new Option('--strategy <strategy>', 'only jobs with this strategy').choices(JOB_STRATEGIES))
    .option(
      '--created-after <time>',
      'only jobs created at or after this ISO 8601 time with its zone, e.g. 2026-01-31T00:00:00Z',
      instant,
    )
    .option('--created-before <time>', 'only jobs created before this ISO 8601 time', instant)
    .option('--doc <id>', 'only jobs with this document among their inputs')
    .option('--limit <n>', 'at most this many', positiveInt, 20)
    .addOption(teamOption("the team's jobs"))
    .action(
      action(
        async (
          ctx,
          _args,
          options: {
            status?: string;
            crew?: string;
            strategy?: string;
            createdAfter?: string;
            createdBefore?: string;
            doc?: string;
            limit: number;
            team?: string;
          },
        ) => {
          const client = ctx.client();
          const items = await allPages<Job>(
            client,
            `${await ownerPath(client, options.team)}/jobs`,
            {
              status: options.status,
              crew: options.crew,
              strategy: options.strategy,
              createdAfter: options.createdAfter,
              createdBefore: options.createdBefore,
              docId: options.doc,
            },
            options.limit,
          );
          ctx.out.result({ items }, () =>
            table([
              ['ID', 'STATUS', 'PROGRESS', 'CREW', 'DOCS', 'CREATED'],
              ...items.map((j) => [
                j.id,
                j.status,
                `${j.progress}%`,
                j.crew,
                String(j.documentCount),
                j.createdAt,
              ]),
            ]),
          );
        },
      ),
    );
  jobs
    .command('get')
    .description('a job: status, progress, per-document state, outputs')
    .argument('<id>', 'the job id')
    .addOption(teamOption("a job of the team's"))
    .action(
      action(async (ctx, [id]: [string], options: { team?: string }) => {
        const client = ctx.client();
        const job = await client.request<Job>(
          'GET',
          `${await ownerPath(client, options.team)}/jobs/${encodeURIComponent(id)}`,
        );
        ctx.out.result(job, () => describeJob(job));
      }),
    );
  jobs
    .command('cancel')
    .description('cancel a job: its steps stop and it ends cancelled')
    .argument('<id>', 'the job id')
    .addOption(teamOption("a job of the team's"))
    .action(
      action(async (ctx, [id]: [string], options: { team?: string }) => {
        const client = ctx.client();
        const job = await client.request<Job>(
          'DELETE',
          `${await ownerPath(client, options.team)}/jobs/${encodeURIComponent(id)}`,
        );
        ctx.out.result(job, () => [`job ${job.id} ${job.status}`]);
      }),
    );
  followOptions(
    jobs
      .command('follow')
      .description("print a job's events until it ends; the exit code says how it ended")
      .argument('<id>', 'the job id')
      .addOption(teamOption("a job of the team's (its outputs are the team's documents)")),
  ).action(
    action(async (ctx, [id]: [string], options: FollowOptions & { team?: string }) => {
      const idleTimeoutMs = idleTimeoutFromEnv(ctx.io.env);
      const client = ctx.client();
      await waitAndReport(
        ctx,
        await ownerPath(client, options.team),
        id,
        { ...options, follow: true },
        new Map(),
        idleTimeoutMs,
      );
    }),
  );

  return [run, jobs];
}

/** `--status a,b`: the statuses, each checked (exit 2 before anything is sent), sent comma-separated. */
function statusList(value: string): string {
  const statuses = value.split(',').map((s) => s.trim());
  const unknown = statuses.filter((s) => !(JOB_STATUSES as readonly string[]).includes(s));
  if (unknown.length)
    throw new InvalidArgumentError(`expected statuses among ${JOB_STATUSES.join(', ')}, got ${value}`);
  return [...new Set(statuses)].join(',');
}

/** An ISO 8601 instant (a date, a time, a zone), checked before anything is sent. */
function instant(value: string): string {
  if (!parseInstant(value))
    throw new InvalidArgumentError('expected an ISO 8601 time with its zone, e.g. 2026-01-31T00:00:00Z');
  return value;
}

/** `--batch-size`: an integer within what the API takes. */
function batchSize(value: string): number {
  const n = /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (!(n >= OBJECT_BATCH_SIZE_MIN && n <= OBJECT_BATCH_SIZE_MAX))
    throw new InvalidArgumentError(
      `expected an integer from ${OBJECT_BATCH_SIZE_MIN} to ${OBJECT_BATCH_SIZE_MAX}`,
    );
  return n;
}

/** `k=v` pairs as the crew's parameters. */
export function parseParams(pairs: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw new CliError(`--param: expected key=value, got ${pair}`, ExitCode.USAGE);
    params[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return params;
}

/** Follows the job's events (printed with --follow), then reads its final state, downloads, sets the exit code. */
async function waitAndReport(
  ctx: Context,
  owner: OwnerPath,
  jobId: string,
  options: FollowOptions,
  names: Map<string, string>,
  idleTimeoutMs?: number,
): Promise<void> {
  const client = ctx.client();
  const path = `${owner}/jobs/${encodeURIComponent(jobId)}`;
  await followJobEvents(client, `${path}/events`, {
    idleTimeoutMs,
    onEvent: (event) => {
      if (!options.follow || event.type === 'heartbeat') return;
      if (ctx.out.json) ctx.out.jsonLine({ event: event.type, id: event.id, data: event.data });
      else ctx.out.lines(describeEvent(event, names));
    },
    onReconnect: (attempt, lastEventId, reason) =>
      ctx.out.note(
        `event stream interrupted (${reason}); reconnecting${lastEventId ? ` after event ${lastEventId}` : ''} ` +
          `(attempt ${attempt})`,
      ),
  });
  // The final event is published as the job's row settles: read it until it says so (briefly).
  let job = await client.request<Job>('GET', path);
  for (let attempt = 0; !TERMINAL.has(job.status) && attempt < 20; attempt++) {
    await client.sleep(250);
    job = await client.request<Job>('GET', path);
  }
  if (!TERMINAL.has(job.status))
    throw new CliError(`the event stream ended but job ${job.id} is ${job.status}`, ExitCode.UNAVAILABLE);
  const outputs: { id: string; name: string; path: string; bytes: number }[] = [];
  if (options.downloadTo) {
    mkdirSync(options.downloadTo, { recursive: true });
    const taken = new Set<string>();
    for (const docId of await outputIds(ctx, path, job)) {
      // A team job's outputs are the team's documents: the same owner's routes.
      const saved = await downloadDocument(client, owner, docId, (doc) => {
        let name = safeName(doc.name);
        if (taken.has(name)) name = `${doc.id}-${name}`;
        taken.add(name);
        return join(options.downloadTo!, name);
      });
      outputs.push({ id: saved.doc.id, name: saved.doc.name, path: saved.path, bytes: saved.bytes });
      if (!ctx.out.json) ctx.out.lines(`saved ${saved.path} (${saved.bytes} bytes)`);
    }
  }
  if (ctx.out.json) ctx.out.jsonLine({ event: 'result', job, ...(options.downloadTo ? { outputs } : {}) });
  else
    ctx.out.lines(
      `job ${job.id} ${job.status}: ${job.outputDocIds.length} output${job.outputDocIds.length === 1 ? '' : 's'}` +
        (job.error ? ` (${job.error})` : ''),
    );
  ctx.exitCode =
    job.status === 'completed' || (job.status === 'completed_with_errors' && !options.failOnErrors)
      ? ExitCode.OK
      : ExitCode.FAILED;
}

/** Every output of the job: from the job view, or paged from its inputs when the view lists only the first. */
async function outputIds(ctx: Context, path: string, job: Job): Promise<string[]> {
  if (!job.truncated) return job.outputDocIds;
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await ctx.client().request<JobInputPage>('GET', `${path}/inputs`, {
      query: { limit: 100, cursor },
    });
    for (const input of page.items) if (input.outputDocId) ids.push(input.outputDocId);
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

function describeEvent(event: JobStreamEvent, names: Map<string, string>): string {
  const d = event.data;
  const input = typeof d.inputId === 'string' ? (names.get(d.inputId) ?? d.inputId) : '';
  const stage = typeof d.stage === 'string' ? d.stage : '';
  const error = (d.error as { message?: string } | undefined)?.message;
  switch (event.type) {
    case 'stage_started':
      return `${input}: ${stage} started`;
    case 'stage_progress':
      return `${input}: ${stage} ${String(d.progress ?? '')}%`;
    case 'stage_completed':
      return `${input}: ${stage} done`;
    case 'doc_completed':
      return `${input}: completed`;
    case 'doc_failed':
      return `${input}: failed${error ? `: ${error}` : ''}`;
    case 'job_started':
    case 'job_completed':
    case 'job_failed':
    case 'job_cancelled':
      return `job ${event.type.slice(4)}${typeof d.progress === 'number' ? ` (${d.progress}%)` : ''}`;
    default:
      return `${event.type}${input ? ` ${input}` : ''}`;
  }
}

function describeJob(job: Job): string[] {
  return [
    `id: ${job.id}`,
    `status: ${job.status}`,
    `progress: ${job.progress}%`,
    `crew: ${job.crew}`,
    `strategy: ${job.strategy}`,
    ...(job.batchSize !== undefined ? [`batch size: ${job.batchSize}`] : []),
    `documents: ${job.documentCount}`,
    ...job.documents.map(
      (d) =>
        `  ${d.docId}  ${d.status}${d.stage ? ` (${d.stage})` : ''}${d.outputDocId ? ` → ${d.outputDocId}` : ''}${d.error ? `: ${d.error}` : ''}`,
    ),
    `outputs: ${job.outputDocIds.join(' ') || '-'}`,
    `tokens: ${job.usage.totalTokens}`,
    ...(job.error ? [`error: ${job.error}`] : []),
    `created: ${job.createdAt}`,
    ...(job.finishedAt ? [`finished: ${job.finishedAt}`] : []),
  ];
}
