import { CalculatorError, createCalculatorTool, evaluateArithmetic, formatNumber } from './calculator';

describe(evaluateArithmetic.name, () => {
  const sut = evaluateArithmetic;

  it.each([
    ['2 + 3 * 4', 14],
    ['(2 + 3) * 4', 20],
    ['10 - 4 - 3', 3],
    ['24 / 4 / 3', 2],
    ['2 ^ 3 ^ 2', 512],
    ['-2 ^ 2', -4],
    ['(-2) ^ 2', 4],
    ['2 ^ -1', 0.5],
    ['2 * 3 ^ 2', 18],
    ['--3', 3],
    ['3.5 * .5', 1.75],
    ['1.2e3 + 1', 1201],
    ['50%', 0.5],
    ['15% * 200', 30],
    ['(12 / 40) * 100', 30],
    ['7 \u00d7 6 \u00f7 3 \u2212 1', 13],
    ['2 ** 10', 1024],
    ['  ( ( 1 ) )  ', 1],
  ])('%s = %d', (expression, expected) => {
    expect(sut(expression)).toBeCloseTo(expected, 12);
  });

  it('fails on division by zero, naming where', () => {
    expect(() => sut('1 / (2 - 2)')).toThrow(new CalculatorError('division by zero at position 2'));
  });

  it.each([
    ['process.exit()', 'unexpected "process" at position 0'],
    ['Math.PI * 2', 'unexpected "Math" at position 0'],
    ['2 + x', 'unexpected "x" at position 4'],
    ['constructor', 'unexpected "constructor" at position 0'],
    ['1,000 + 1', 'unexpected "," at position 1'],
    ['a = 1', 'unexpected "a" at position 0'],
  ])('rejects %s: only arithmetic is allowed', (expression, message) => {
    expect(() => sut(expression)).toThrow(CalculatorError);
    expect(() => sut(expression)).toThrow(message);
  });

  it.each([
    ['', 'empty expression'],
    ['2 +', 'unexpected end of expression'],
    ['(1 + 2', 'missing ")" for the "(" at position 0'],
    ['1 + 2)', 'unexpected ")" at position 5'],
    ['2 3', 'unexpected "3" at position 2'],
    ['* 2', 'unexpected "*" at position 0'],
    ['10 ^ 400', 'the result is not a finite number'],
  ])('rejects the malformed %j', (expression, message) => {
    expect(() => sut(expression)).toThrow(message);
  });

  it('rejects nesting deep enough to exhaust the stack', () => {
    expect(() => sut(`${'('.repeat(300)}1${')'.repeat(300)}`)).toThrow('nested deeper than 100');
    expect(() => sut('-'.repeat(300) + '1')).toThrow('nested deeper than 100');
    expect(sut(`${'('.repeat(99)}1${')'.repeat(99)}`)).toBe(1);
  });
});

describe(formatNumber.name, () => {
  it('rounds away binary noise', () => {
    expect(formatNumber(0.1 + 0.2)).toBe('0.3');
    expect(formatNumber(-0)).toBe('0');
    expect(formatNumber(1 / 3)).toBe('0.333333333333');
  });
});

describe(createCalculatorTool.name, () => {
  const sut = createCalculatorTool();

  it('answers with the value', async () => {
    expect(sut.name).toBe('calculator');
    await expect(sut.invoke({ expression: '0.1 + 0.2' })).resolves.toBe('0.3');
  });

  it('fails with the parser error, never evaluating code', async () => {
    await expect(sut.invoke({ expression: 'process.exit(1)' })).rejects.toThrow(
      'unexpected "process" at position 0',
    );
  });
});
