import { Command } from 'commander';
import { table } from '../output';
import type { Action } from './action';
import { allPages } from './auth';

interface TeamView {
  id: string;
  name: string;
  /** Your role in it: owner, editor, reader or consumer. */
  role: string;
  createdAt: string;
}

export function teamCommands(action: Action): Command[] {
  const teams = new Command('teams').description('the teams you are a member of (their ids go to --team)');
  teams
    .command('list')
    .description('your teams: id, name, your role')
    .action(
      action(async (ctx) => {
        const items = await allPages<TeamView>(ctx.client(), '/teams');
        ctx.out.result({ items }, () =>
          table([
            ['ID', 'NAME', 'ROLE', 'CREATED'],
            ...items.map((t) => [t.id, t.name, t.role, t.createdAt]),
          ]),
        );
      }),
    );
  return [teams];
}
