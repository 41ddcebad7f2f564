import type { Command } from 'commander';
import type { CliIo } from '../context';
import { Context } from '../context';

/** A command's handler: its context, its positional arguments, its own options. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handler = (ctx: Context, args: any, options: any) => Promise<void>;
export type Action = (handler: Handler) => (...params: unknown[]) => Promise<void>;

/** Wraps handlers so each gets a Context; the outcome's exit code lands in `outcome.exitCode`. */
export function actionFor(io: CliIo, outcome: { exitCode: number }): Action {
  return (handler) =>
    async (...params) => {
      const command = params[params.length - 1] as Command;
      const ctx = new Context(io, command);
      await handler(ctx, command.processedArgs, command.opts());
      outcome.exitCode = ctx.exitCode;
    };
}
