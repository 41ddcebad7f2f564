import { tool } from '@langchain/core/tools';
import { z } from 'zod';

/**
 * Arithmetic for agents, evaluated by a small recursive-descent parser (never `eval` or `Function`):
 *
 *   expression := term (('+' | '-') term)*
 *   term       := unary (('*' | '/') unary)*
 *   unary      := ('+' | '-') unary | power
 *   power      := percent ('^' unary)?          right-associative: 2^3^2 = 2^9; -2^2 = -4
 *   percent    := primary '%'*                   50% = 0.5
 *   primary    := number | '(' expression ')'
 *
 * `×`, `·` and `÷`, the minus sign `−` and `**` are accepted as `*`, `/`, `-` and `^`. Numbers are decimals
 * (`12`, `3.5`, `.5`, `1.2e3`). Anything else (names, commas, `=`) is an error naming what was found and where.
 */

export const MAX_EXPRESSION_LENGTH = 1000;
const MAX_DEPTH = 100;

type Token =
  | { kind: 'number'; value: number; at: number }
  | { kind: 'op'; value: '+' | '-' | '*' | '/' | '^' | '%' | '(' | ')'; at: number }
  | { kind: 'end'; at: number };

const ALIASES: Record<string, '+' | '-' | '*' | '/' | '^' | '%' | '(' | ')'> = {
  '+': '+',
  '-': '-',
  '\u2212': '-',
  '*': '*',
  '\u00d7': '*',
  '\u00b7': '*',
  '/': '/',
  '\u00f7': '/',
  '^': '^',
  '%': '%',
  '(': '(',
  ')': ')',
};

export class CalculatorError extends Error {
  override readonly name = 'CalculatorError';
}

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const ch = expression[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const number = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(expression.slice(i));
    if (number) {
      tokens.push({ kind: 'number', value: Number(number[0]), at: i });
      i += number[0].length;
      continue;
    }
    if (expression.startsWith('**', i)) {
      tokens.push({ kind: 'op', value: '^', at: i });
      i += 2;
      continue;
    }
    const op = ALIASES[ch];
    if (op) {
      tokens.push({ kind: 'op', value: op, at: i });
      i++;
      continue;
    }
    const word = /^[\p{L}_$][\p{L}\p{N}_$]*/u.exec(expression.slice(i));
    const found = word ? `"${word[0]}"` : `"${String.fromCodePoint(expression.codePointAt(i)!)}"`;
    throw new CalculatorError(
      `unexpected ${found} at position ${i}: only numbers, + - * / ^ %, and parentheses are allowed`,
    );
  }
  tokens.push({ kind: 'end', at: expression.length });
  return tokens;
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): number {
    const value = this.expression();
    const next = this.peek();
    if (next.kind !== 'end') throw this.unexpected(next);
    return value;
  }

  private peek(): Token {
    return this.tokens[this.index];
  }

  private isOp(...ops: string[]): boolean {
    const token = this.peek();
    return token.kind === 'op' && ops.includes(token.value);
  }

  private unexpected(token: Token): CalculatorError {
    if (token.kind === 'end') return new CalculatorError('unexpected end of expression');
    const shown = token.kind === 'number' ? String(token.value) : token.value;
    return new CalculatorError(`unexpected "${shown}" at position ${token.at}`);
  }

  private nested<T>(parse: () => T): T {
    if (++this.depth > MAX_DEPTH) throw new CalculatorError(`expression nested deeper than ${MAX_DEPTH}`);
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  private expression(): number {
    let value = this.term();
    while (this.isOp('+', '-')) {
      const op = this.tokens[this.index++];
      const right = this.term();
      value = op.kind === 'op' && op.value === '+' ? value + right : value - right;
    }
    return value;
  }

  private term(): number {
    let value = this.unary();
    while (this.isOp('*', '/')) {
      const op = this.tokens[this.index++];
      const right = this.unary();
      if (op.kind === 'op' && op.value === '/') {
        if (right === 0) throw new CalculatorError(`division by zero at position ${op.at}`);
        value /= right;
      } else {
        value *= right;
      }
    }
    return value;
  }

  private unary(): number {
    if (this.isOp('+', '-')) {
      const op = this.tokens[this.index++];
      const operand = this.nested(() => this.unary());
      return op.kind === 'op' && op.value === '-' ? -operand : operand;
    }
    return this.power();
  }

  private power(): number {
    const base = this.percent();
    if (!this.isOp('^')) return base;
    this.index++;
    const exponent = this.nested(() => this.unary());
    return base ** exponent;
  }

  private percent(): number {
    let value = this.primary();
    while (this.isOp('%')) {
      this.index++;
      value /= 100;
    }
    return value;
  }

  private primary(): number {
    const token = this.peek();
    if (token.kind === 'number') {
      this.index++;
      return token.value;
    }
    if (token.kind === 'op' && token.value === '(') {
      this.index++;
      const value = this.nested(() => this.expression());
      if (!this.isOp(')')) {
        const next = this.peek();
        throw next.kind === 'end'
          ? new CalculatorError(`missing ")" for the "(" at position ${token.at}`)
          : this.unexpected(next);
      }
      this.index++;
      return value;
    }
    throw this.unexpected(token);
  }
}

/** The value of an arithmetic expression; throws CalculatorError for anything that is not arithmetic. */
export function evaluateArithmetic(expression: string): number {
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw new CalculatorError(`expression longer than ${MAX_EXPRESSION_LENGTH} characters`);
  }
  if (expression.trim() === '') throw new CalculatorError('empty expression');
  const value = new Parser(tokenize(expression)).parse();
  if (!Number.isFinite(value)) throw new CalculatorError('the result is not a finite number');
  return value;
}

/** 12 significant digits: 0.1 + 0.2 is 0.3, not 0.30000000000000004. */
export function formatNumber(value: number): string {
  const rounded = Number(value.toPrecision(12));
  return String(Object.is(rounded, -0) ? 0 : rounded);
}

export function createCalculatorTool() {
  return tool(({ expression }) => formatNumber(evaluateArithmetic(expression)), {
    name: 'calculator',
    description:
      'Evaluates an arithmetic expression exactly and returns the number. Supports + - * / ^ (power), ' +
      'parentheses, decimals and % (percent: 15% = 0.15, so 15% * 200 = 30). No variables or functions. ' +
      'Use it instead of computing sums, ratios or percentages in your head.',
    schema: z.object({
      expression: z
        .string()
        .min(1)
        .max(MAX_EXPRESSION_LENGTH)
        .describe('The expression, e.g. "(1250 - 40) * 3.5 / 2" or "12 / 40 * 100"'),
    }),
  });
}
