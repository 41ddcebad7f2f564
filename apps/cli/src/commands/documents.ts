import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { CliError, ExitCode } from '../errors';
import { table } from '../output';
import {
  downloadDocument,
  uploadFile,
  waitUntilUploaded,
  withoutUrls,
  type DocumentView,
  type DocumentWithDownload,
} from '../transfer';
import type { Context } from '../context';
import { ownerPath, teamOption } from '../owner';
import type { Action } from './action';
import { allPages } from './auth';

export function positiveInt(value: string): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

/** Uploads files and waits until each is `uploaded`; shared by `upload` and `run --files`. */
export async function uploadFiles(
  ctx: Context,
  files: string[],
  options: { contentType?: string; waitSeconds: number; quiet?: boolean; team?: string },
): Promise<DocumentView[]> {
  for (const file of files)
    if (!existsSync(file) || !statSync(file).isFile())
      throw new CliError(`${file}: no such file`, ExitCode.USAGE);
  const client = ctx.client();
  const owner = await ownerPath(client, options.team);
  const registered = [];
  for (const file of files) {
    const doc = await uploadFile(client, owner, file, options.contentType);
    if (!options.quiet && !ctx.out.json) ctx.out.note(`uploaded ${file} as ${doc.id}`);
    registered.push(doc);
  }
  return Promise.all(
    registered.map((doc) => waitUntilUploaded(client, owner, doc.id, options.waitSeconds * 1000)),
  );
}

export function documentCommands(action: Action): Command[] {
  const upload = new Command('upload')
    .description('upload files as documents and wait until each is stored; prints their ids')
    .argument('<files...>', 'the files')
    .option('--content-type <type>', 'for every file (default: by extension)')
    .option('--wait <seconds>', 'how long to wait for the storage to confirm each upload', positiveInt, 120)
    .addOption(teamOption("upload them as the team's documents"))
    .action(
      action(
        async (ctx, [files]: [string[]], options: { contentType?: string; wait: number; team?: string }) => {
          const docs = await uploadFiles(ctx, files, {
            contentType: options.contentType,
            waitSeconds: options.wait,
            team: options.team,
          });
          ctx.out.result(docs, () => docs.map((d) => `${d.id}\t${d.name}`));
        },
      ),
    );

  const docs = new Command('docs').description("your documents (or a team's, with --team)");
  docs
    .command('list')
    .description('your documents, newest first (uploads and job outputs)')
    .option('--limit <n>', 'at most this many', positiveInt, 100)
    .addOption(teamOption("the team's documents"))
    .action(
      action(async (ctx, _args, options: { limit: number; team?: string }) => {
        const client = ctx.client();
        const items = await allPages<DocumentView>(
          client,
          `${await ownerPath(client, options.team)}/docs`,
          {},
          options.limit,
        );
        ctx.out.result({ items }, () =>
          table([
            ['ID', 'STATUS', 'KIND', 'SIZE', 'CREATED', 'NAME'],
            ...items.map((d) => [d.id, d.status, d.kind, String(d.size), d.createdAt, d.name]),
          ]),
        );
      }),
    );
  docs
    .command('get')
    .description('a document (without its presigned URL: use `docflow download`)')
    .argument('<id>', 'the document id')
    .addOption(teamOption("a document of the team's"))
    .action(
      action(async (ctx, [id]: [string], options: { team?: string }) => {
        const client = ctx.client();
        const doc = withoutUrls(
          await client.request<DocumentWithDownload>(
            'GET',
            `${await ownerPath(client, options.team)}/docs/${encodeURIComponent(id)}`,
          ),
        );
        ctx.out.result(doc, () => Object.entries(doc).map(([key, value]) => `${key}: ${String(value)}`));
      }),
    );

  const download = new Command('download')
    .description("stream a document's bytes to a file")
    .argument('<docId>', 'the document id')
    .option('-o, --output <path>', 'a file, a directory (the document name inside it), or - for stdout')
    .addOption(teamOption("a document of the team's"))
    .action(
      action(async (ctx, [docId]: [string], options: { output?: string; team?: string }) => {
        const client = ctx.client();
        const target = options.output;
        const saved = await downloadDocument(
          client,
          await ownerPath(client, options.team),
          docId,
          target === '-'
            ? '-'
            : (doc) =>
                target === undefined
                  ? safeName(doc.name)
                  : existsSync(target) && statSync(target).isDirectory()
                    ? join(target, safeName(doc.name))
                    : target,
          ctx.io.stdout,
        );
        if (saved.path === '-') return;
        ctx.out.result(
          { id: saved.doc.id, name: saved.doc.name, path: saved.path, bytes: saved.bytes },
          () => [saved.path],
        );
      }),
    );

  return [upload, docs, download];
}

/** A document name as a file name in a folder: no directories, nothing hidden. */
export function safeName(name: string): string {
  const base = basename(name.replace(/\\/g, '/')).replace(/\p{Cc}/gu, '_');
  return !base || base === '.' || base === '..' ? 'document' : base.replace(/^\.+/, '_');
}
