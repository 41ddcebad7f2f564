import type { Writable } from 'node:stream';

/** stdout for results (JSON with --json), stderr for notes and errors. */
export class Output {
  constructor(
    private readonly stdout: Writable,
    private readonly stderr: Writable,
    readonly json: boolean,
  ) {}

  /** The command's result: `value` as JSON with --json, else the human lines. */
  result(value: unknown, human: () => string | string[]): void {
    if (this.json) this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else this.lines(human());
  }

  /** One JSON object per line (--json while following a job). */
  jsonLine(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value)}\n`);
  }

  lines(lines: string | string[]): void {
    for (const line of typeof lines === 'string' ? [lines] : lines) this.stdout.write(`${line}\n`);
  }

  /** A note for people (progress, what happened), never part of the result: stderr. */
  note(text: string): void {
    this.stderr.write(`docflow: ${text}\n`);
  }
}

/** Rows as aligned columns, the first row the header. */
export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
}
