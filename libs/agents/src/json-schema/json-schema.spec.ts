import { checkSchema, parseJsonAnswer, validateJson, type JsonSchema } from './json-schema';

const INVOICE: JsonSchema = {
  type: 'object',
  properties: {
    number: { type: 'string' },
    total: { type: 'number' },
    paid: { type: 'boolean' },
    status: { enum: ['open', 'closed'] },
    lines: {
      type: 'array',
      items: { type: 'object', properties: { qty: { type: 'integer' } }, required: ['qty'] },
    },
    note: { type: ['string', 'null'] },
  },
  required: ['number', 'total'],
};

describe(validateJson.name, () => {
  const sut = validateJson;

  it('accepts a conforming value', () => {
    expect(
      sut({ number: 'A1', total: 10, paid: true, status: 'open', lines: [{ qty: 2 }], note: null }, INVOICE),
    ).toEqual([]);
  });

  it('names each violation by path', () => {
    expect(sut({ total: '10', status: 'lost', lines: [{ qty: 1.5 }, {}], note: 3 }, INVOICE)).toEqual([
      '$.number: required property is missing',
      '$.total: expected number, got string',
      '$.status: must be one of "open", "closed"',
      '$.lines[0].qty: expected integer, got number',
      '$.lines[1].qty: required property is missing',
      '$.note: expected string or null, got integer',
    ]);
  });

  it('accepts an integer where a number is expected', () => {
    expect(sut(3, { type: 'number' })).toEqual([]);
  });
});

describe(checkSchema.name, () => {
  const sut = checkSchema;

  it('accepts the supported subset', () => {
    expect(sut(INVOICE)).toEqual([]);
  });

  it('rejects keywords it would not enforce and unknown types', () => {
    expect(
      sut({ type: 'object', properties: { a: { type: 'text', pattern: 'x' } }, additionalProperties: false }),
    ).toEqual([
      '$: unsupported keyword "additionalProperties"',
      '$.properties.a: unsupported keyword "pattern"',
      '$.properties.a.type: unknown type "text"',
    ]);
  });
});

describe(parseJsonAnswer.name, () => {
  const sut = parseJsonAnswer;

  it('finds JSON alone, in a fence or inside prose', () => {
    expect(sut('{"a":1}')).toEqual({ value: { a: 1 } });
    expect(sut('Here:\n```json\n{"a":2}\n```\nDone.')).toEqual({ value: { a: 2 } });
    expect(sut('The result is {"a":3} as asked.')).toEqual({ value: { a: 3 } });
    expect(sut('no json here')).toBeUndefined();
  });
});
