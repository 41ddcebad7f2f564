import { checkJsonText, createValidateJsonTool } from './validate-json';

const SCHEMA = JSON.stringify({
  type: 'object',
  properties: {
    name: { type: 'string' },
    total: { type: 'number' },
    status: { enum: ['open', 'closed'] },
    tags: { type: 'array', items: { type: 'string' } },
  },
  required: ['name', 'total'],
});

describe(checkJsonText.name, () => {
  const sut = checkJsonText;

  it('accepts a conforming value', () => {
    expect(sut('{"name":"x","total":3,"tags":["a"]}', SCHEMA)).toEqual({ valid: true, errors: [] });
  });

  it('lists every error with its path', () => {
    expect(sut('{"total":"3","status":"lost","tags":["a",2]}', SCHEMA)).toEqual({
      valid: false,
      errors: [
        '$.name: required property is missing',
        '$.total: expected number, got string',
        '$.status: must be one of "open", "closed"',
        '$.tags[1]: expected string, got integer',
      ],
    });
  });

  it('reports a text that is not JSON as invalid', () => {
    const result = sut('{"name": "x",}', SCHEMA);

    expect(result.valid).toBe(false);
    expect(result.errors).toEqual([expect.stringMatching(/^\$: the text is not valid JSON: /)]);
  });

  it('refuses a schema it cannot check against', () => {
    expect(() => sut('{}', '{type: object}')).toThrow(/^the schema is not valid JSON: /);
    expect(() => sut('{}', '{"type":"object","minProperties":1}')).toThrow(
      'the schema cannot be used: $: unsupported keyword "minProperties"',
    );
  });
});

describe(createValidateJsonTool.name, () => {
  const sut = createValidateJsonTool();

  it('answers with the validation as JSON', async () => {
    const answer = await sut.invoke({ json: '[]', schema: SCHEMA });

    expect(JSON.parse(String(answer))).toEqual({ valid: false, errors: ['$: expected object, got array'] });
  });
});
