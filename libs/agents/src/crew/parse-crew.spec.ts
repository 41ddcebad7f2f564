import { EngineError } from '../errors';
import { parseCrew, validateCrew } from './parse-crew';

const VALID = {
  name: 'demo',
  defaults: { provider: 'offline', model: 'offline' },
  agents: [
    { id: 'a', role: 'Writer', goal: 'Write' },
    { id: 'b', role: 'Critic', goal: 'Criticise' },
  ],
  tasks: [
    { id: 't1', description: 'Do one', expectedOutput: 'One', agent: 'a' },
    { id: 't2', description: 'Do two', expectedOutput: 'Two', agent: 'b', context: ['t1'] },
  ],
  process: 'sequential',
};

function problemsOf(data: unknown): string[] {
  try {
    validateCrew(data);
  } catch (error) {
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).kind).toBe('permanent');
    expect((error as EngineError).code).toBe('invalid_crew');
    return (error as EngineError).details;
  }
  throw new Error('expected the crew to be rejected');
}

describe(validateCrew.name, () => {
  const sut = validateCrew;

  it('accepts a valid crew and fills in defaults', () => {
    const crew = sut(VALID);
    expect(crew.process).toEqual({ type: 'sequential' });
    expect(crew.tasks[0]).toMatchObject({ kind: 'generic', context: [], format: 'markdown' });
    expect(crew.agents[0]).toMatchObject({ instructions: '', tools: [] });
  });

  it('names a missing field with its path', () => {
    const data = structuredClone(VALID);
    delete (data.agents[1] as { role?: string }).role;
    expect(problemsOf(data)).toEqual(['agents[1].role: Required']);
  });

  it('names a field of the wrong type and unknown keys', () => {
    const data = structuredClone(VALID) as Record<string, unknown>;
    (data['agents'] as Array<Record<string, unknown>>)[0]['temperature'] = 'hot';
    (data['tasks'] as Array<Record<string, unknown>>)[1]['agnet'] = 'b';
    const problems = problemsOf(data);
    expect(problems).toContainEqual(expect.stringMatching(/^agents\[0\]\.temperature: /));
    expect(problems).toContain('tasks[1].agnet: Unrecognized key');
  });

  it('accepts built-in tools and the tool round limits', () => {
    const data = structuredClone(VALID) as Record<string, unknown>;
    data['maxToolRounds'] = 3;
    data['agents'] = [
      { id: 'a', role: 'Writer', goal: 'Write', tools: ['search_document', 'calculator'], maxToolRounds: 2 },
      { id: 'b', role: 'Critic', goal: 'Criticise', tools: ['word_count', 'validate_json'] },
    ];

    const crew = sut(data);

    expect(crew.maxToolRounds).toBe(3);
    expect(crew.agents.map((a) => [a.tools, a.maxToolRounds])).toEqual([
      [['search_document', 'calculator'], 2],
      [['word_count', 'validate_json'], undefined],
    ]);
  });

  it('names an unknown or repeated tool with its path, listing the known tools', () => {
    const data = structuredClone(VALID) as Record<string, unknown>;
    data['agents'] = [
      { id: 'a', role: 'Writer', goal: 'Write', tools: ['calculator', 'web-search'] },
      { id: 'b', role: 'Critic', goal: 'Criticise', tools: ['word_count', 'word_count'] },
    ];

    expect(problemsOf(data)).toEqual([
      'agents[0].tools[1]: unknown tool "web-search"; known: calculator, search_document, validate_json, word_count',
      'agents[1].tools[1]: duplicate tool "word_count"',
    ]);
  });

  it('checks the tool round limits', () => {
    const data = structuredClone(VALID) as Record<string, unknown>;
    data['maxToolRounds'] = 0;
    data['agents'] = [
      { id: 'a', role: 'Writer', goal: 'Write', tools: ['calculator'], maxToolRounds: 21 },
      { id: 'b', role: 'Critic', goal: 'Criticise', maxToolRounds: 2 },
    ];

    const problems = problemsOf(data);

    expect(problems).toEqual([
      expect.stringMatching(/^agents\[0\]\.maxToolRounds: /),
      expect.stringMatching(/^maxToolRounds: /),
    ]);
    data['maxToolRounds'] = 1;
    (data['agents'] as Array<Record<string, unknown>>)[0]['maxToolRounds'] = 20;
    expect(problemsOf(data)).toEqual(['agents[1].maxToolRounds: the agent has no tools']);
  });

  it('rejects an unknown process type', () => {
    expect(problemsOf({ ...VALID, process: 'parallel' })).toEqual([
      expect.stringMatching(/^process\.type: .*sequential.*hierarchical.*map-reduce/),
    ]);
  });

  it('rejects a task naming an unknown agent and context naming an unknown task', () => {
    const data = structuredClone(VALID);
    data.tasks[1].agent = 'nobody';
    data.tasks[1].context = ['t9'];
    expect(problemsOf(data)).toEqual([
      'tasks[1].agent: unknown agent "nobody"',
      'tasks[1].context[0]: unknown task "t9"',
    ]);
  });

  it('rejects context naming a later task', () => {
    const data = structuredClone(VALID);
    data.tasks.push({ id: 't3', description: 'x', expectedOutput: 'y', agent: 'a', context: [] });
    (data.tasks[0] as { context?: string[] }).context = ['t3'];
    expect(problemsOf(data)).toEqual(['tasks[0].context[0]: task "t3" must come before "t1"']);
  });

  it('reports a cycle', () => {
    const data = structuredClone(VALID);
    (data.tasks[0] as { context?: string[] }).context = ['t2'];
    expect(problemsOf(data)).toEqual(['tasks: context cycle t1 -> t2 -> t1']);
  });

  it('rejects duplicate ids, a missing model and undeclared placeholders', () => {
    const data = structuredClone(VALID) as Record<string, unknown> & typeof VALID;
    data.defaults = { provider: 'offline' } as typeof VALID.defaults;
    data.agents[1].id = 'a';
    data.tasks[0].description = 'Translate into {{language}}';
    expect(problemsOf(data)).toEqual([
      'agents[0].model: Required (or set defaults.model)',
      'agents[1].id: duplicate agent id "a"',
      'agents[1].model: Required (or set defaults.model)',
      'tasks[1].agent: unknown agent "b"',
      'tasks[0].description: unknown parameter "language" (declare it under params)',
    ]);
  });

  it('checks the references of each process type', () => {
    expect(problemsOf({ ...VALID, process: { type: 'hierarchical', manager: 'boss' } })).toEqual([
      'process.manager: unknown agent "boss"',
    ]);
    expect(problemsOf({ ...VALID, process: { type: 'map-reduce', map: 't1', reduce: 'nope' } })).toEqual([
      'process.reduce: unknown task "nope"',
      'tasks[1]: a map-reduce crew has only its map and reduce tasks, not "t2"',
    ]);
    expect(
      problemsOf({ ...VALID, process: { type: 'sequential', review: { writer: 't2', critic: 't1' } } }),
    ).toEqual([
      'process.review.critic: must come after the writer task "t2"',
      'process.review.critic: task "t1" must have "t2" in its context',
    ]);
  });
});

describe(parseCrew.name, () => {
  const sut = parseCrew;

  it('parses YAML and JSON alike', () => {
    const yaml = `
name: demo
defaults: { provider: offline, model: offline }
agents:
  - { id: a, role: Writer, goal: Write }
tasks:
  - { id: t1, description: Do, expectedOutput: Done, agent: a }
process: sequential
`;
    expect(sut(yaml, 'yaml').tasks.map((t) => t.id)).toEqual(['t1']);
    expect(sut(JSON.stringify(VALID), 'json').tasks.map((t) => t.id)).toEqual(['t1', 't2']);
  });

  it('reports unparseable text as an invalid crew', () => {
    expect(() => sut('{ nope', 'json')).toThrow(/invalid crew: not valid JSON/);
    expect(() => sut('a: [', 'yaml')).toThrow(/invalid crew: not valid YAML/);
  });
});
