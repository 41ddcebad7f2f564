import { Command, Option } from 'commander';
import { API_KEY_PROVIDERS } from '@docflow/contracts';
import { CliError, ExitCode } from '../errors';
import { table } from '../output';
import { teamOption } from '../owner';
import type { Action } from './action';
import { allPages } from './auth';

interface ApiKeyView {
  id: string;
  name: string;
  provider: string;
  last4: string;
  teamId?: string;
  createdAt: string;
}

export function keyCommands(action: Action): Command[] {
  const keys = new Command('keys').description(
    'provider keys (stored encrypted; only their last four characters come back)',
  );
  keys
    .command('add')
    .description('store a provider key read from stdin (never from an argument: ps and shell history)')
    .requiredOption('--name <name>', 'what it is, e.g. "team openai"')
    .addOption(
      new Option('--provider <provider>', 'the provider').choices(API_KEY_PROVIDERS).makeOptionMandatory(),
    )
    .option('--key-stdin', 'read the key from stdin (required)')
    .addOption(teamOption("store it as the team's key instead of your own"))
    .action(
      action(
        async (
          ctx,
          _args,
          options: { name: string; provider: string; keyStdin?: boolean; team?: string },
        ) => {
          if (!options.keyStdin)
            throw new CliError('--key-stdin is required: pipe the key on stdin', ExitCode.USAGE);
          const key = await ctx.readStdin('--key-stdin');
          const created = await ctx.client().request<ApiKeyView>('POST', '/apikeys', {
            body: {
              name: options.name,
              provider: options.provider,
              key,
              ...(options.team ? { teamId: options.team } : {}),
            },
          });
          ctx.out.result(created, () => [
            `${created.id}\t${created.name}\t${created.provider}\t…${created.last4}`,
          ]);
        },
      ),
    );
  keys
    .command('list')
    .description('your keys (or a team’s), without secrets')
    .addOption(teamOption("the team's keys"))
    .action(
      action(async (ctx, _args, options: { team?: string }) => {
        const items = await allPages<ApiKeyView>(ctx.client(), '/apikeys', { teamId: options.team });
        ctx.out.result({ items }, () =>
          table([
            ['ID', 'NAME', 'PROVIDER', 'LAST4', 'TEAM', 'CREATED'],
            ...items.map((k) => [k.id, k.name, k.provider, k.last4, k.teamId ?? '-', k.createdAt]),
          ]),
        );
      }),
    );
  keys
    .command('delete')
    .description('delete a key; jobs using it lose access at once')
    .argument('<id>', 'the key id')
    .action(
      action(async (ctx, [id]: [string]) => {
        await ctx.client().request('DELETE', `/apikeys/${encodeURIComponent(id)}`);
        ctx.out.result({ id, deleted: true }, () => [`deleted ${id}`]);
      }),
    );
  return [keys];
}
