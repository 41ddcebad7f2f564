import { FakeListChatModel } from '@langchain/core/utils/testing';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { runCrew } from '../../engine/run-crew';
import { EngineError } from '../../errors';
import { createModelFactory } from '../../providers/model-factory';
import { OFFLINE_TRANSLATION_MARKER } from '../../providers/offline';
import { fixedFactory, RecordingChatModel } from '../../testing/fakes';
import { longDocument, REPORT } from '../../testing/fixtures';
import { parseCrew } from '../parse-crew';
import { BUILTIN_CREW_NAMES, builtinCrewSource, loadBuiltinCrew } from './index';

const offline = createModelFactory({ offline: true });
const DOC = { name: 'report.md', text: REPORT };

const SCHEMA = JSON.stringify({
  type: 'object',
  properties: {
    inspector: { type: 'string' },
    inspectionDate: { type: 'string' },
    bridgeId: { type: 'string', title: 'Bridge ID' },
    spanLength: { type: 'number' },
    loadRating: { type: 'number' },
    repairsNeeded: { type: 'boolean' },
    condition: { enum: ['good', 'fair', 'poor'] },
    contact: { type: 'string' },
    owner: { type: ['string', 'null'] },
  },
  required: ['inspector', 'spanLength'],
});

describe(loadBuiltinCrew.name, () => {
  const sut = loadBuiltinCrew;

  it.each(BUILTIN_CREW_NAMES)('loads and validates %s', (name) => {
    const crew = sut(name);
    expect(crew.name).toBe(name);
    expect(builtinCrewSource(name)).toContain(`name: ${name}`);
  });

  it('ships the five crews of the product', () => {
    expect(BUILTIN_CREW_NAMES).toEqual(['summarize', 'translate', 'extract', 'rewrite', 'review']);
    expect(sut('summarize').process).toMatchObject({
      type: 'map-reduce',
      map: 'summarize-chunk',
      reduce: 'merge-summaries',
    });
    expect(sut('review').process).toMatchObject({
      type: 'sequential',
      review: { writer: 'draft', critic: 'critique' },
    });
  });

  it('rejects an unknown name', () => {
    expect(() => sut('poem')).toThrow(EngineError);
    expect(() => sut('poem')).toThrow(
      'unknown crew "poem"; built-in crews: summarize, translate, extract, rewrite, review',
    );
  });
});

describe('built-in crews on the offline model', () => {
  const sut = runCrew;

  it('summarize: a short document in one call, with sentences of the text, keywords and the outline', async () => {
    const result = await sut({ crew: loadBuiltinCrew('summarize'), document: DOC }, { models: offline });
    expect(result).toMatchObject({
      calls: 1,
      chunks: 1,
      agentsRun: ['summarizer'],
      models: ['offline:offline'],
    });
    expect(result.output).toContain(
      'Corrosion was found on twelve of the forty steel cables, mostly near the northern anchorage.',
    );
    expect(result.output).not.toContain('Inspector: Maria Lopez');
    expect(result.output).toMatch(/## Keywords\n\n.*corrosion/);
    expect(result.output).toContain(
      '## Outline\n\n- Harbor Bridge Inspection Report\n  - Findings\n  - Recommendations\n  - Budget',
    );
    expect(result.costEstimateUsd).toBe(0);
    expect(result.usage.inputTokens).toBeGreaterThan(300);
  });

  it('summarize: a long document map-reduced over its chunks', async () => {
    const text = longDocument(12);
    const result = await sut(
      { crew: loadBuiltinCrew('summarize'), document: { name: 'long.md', text } },
      { models: offline, chunkTokens: 250 },
    );
    expect(result.chunks).toBeGreaterThan(3);
    expect(result.calls).toBe(result.chunks + 1);
    expect(result.agentsRun).toEqual(['summarizer', 'editor']);
    const summary = /## Summary\n\n(.*)\n/.exec(result.output)![1];
    const sentences = summary.match(
      /Paragraph \d+ sentence \d+ describes the \w+ survey results in careful detail\./g,
    )!;
    expect(sentences.length).toBeGreaterThanOrEqual(3);
    for (const sentence of sentences) expect(text).toContain(sentence);
    expect(result.output).toContain('- Section 1\n');
    expect(result.output).toContain('- Section 12');
  });

  it('translate: honestly marked as untranslated, the text kept whole and in order', async () => {
    const result = await sut(
      { crew: loadBuiltinCrew('translate'), document: DOC, params: { targetLanguage: 'French' } },
      { models: offline },
    );
    expect(
      result.output.startsWith(
        `${OFFLINE_TRANSLATION_MARKER} The offline model cannot translate into French`,
      ),
    ).toBe(true);
    expect(result.output).toContain(REPORT.trim());
  });

  it('translate: a long document comes back once, chunk after chunk', async () => {
    const text = longDocument(8);
    const result = await sut(
      {
        crew: loadBuiltinCrew('translate'),
        document: { name: 'long.md', text },
        params: { targetLanguage: 'German' },
      },
      { models: offline, chunkTokens: 200 },
    );
    expect(result.chunks).toBeGreaterThan(2);
    expect(result.output.split(OFFLINE_TRANSLATION_MARKER)).toHaveLength(result.chunks + 1);
    expect(result.output.match(/Paragraph 5 sentence 3 /g)).toHaveLength(1);
  });

  it('translate: requires targetLanguage', async () => {
    await expect(
      sut({ crew: loadBuiltinCrew('translate'), document: DOC }, { models: offline }),
    ).rejects.toMatchObject({
      kind: 'permanent',
      code: 'invalid_params',
      details: ['targetLanguage: required parameter is missing'],
    });
  });

  it('extract: the schema fields with values from the text, typed, null when absent', async () => {
    const result = await sut(
      { crew: loadBuiltinCrew('extract'), document: DOC, params: { schema: SCHEMA } },
      { models: offline },
    );
    expect(result.json).toEqual({
      inspector: 'Maria Lopez',
      inspectionDate: '2026-03-14',
      bridgeId: 'HB-2041',
      spanLength: 1250,
      loadRating: 42.5,
      repairsNeeded: true,
      condition: 'fair',
      contact: 'maria.lopez@example.org',
      owner: null,
    });
    expect(result.output.startsWith('```json\n{\n  "inspector": "Maria Lopez"')).toBe(true);
  });

  it('extract: merges the fields found in different chunks of a long document', async () => {
    const text = `${longDocument(4)}\n\nInspector: Ada\n\n${longDocument(4)}\n\nSpan length: 12 m`;
    const schema = JSON.stringify({
      type: 'object',
      properties: {
        inspector: { type: 'string' },
        spanLength: { type: 'number' },
        owner: { type: ['string', 'null'] },
      },
      required: ['inspector', 'spanLength'],
    });
    const result = await sut(
      { crew: loadBuiltinCrew('extract'), document: { name: 'long.md', text }, params: { schema } },
      { models: offline, chunkTokens: 200 },
    );
    expect(result.chunks).toBeGreaterThan(2);
    expect(result.json).toEqual({ inspector: 'Ada', spanLength: 12, owner: null });
    expect(result.calls).toBe(result.chunks);
  });

  it('extract: fails permanently when a required field cannot be found, after one retry', async () => {
    const strict = JSON.stringify({
      type: 'object',
      properties: { owner: { type: 'string' } },
      required: ['owner'],
    });
    const error = await sut(
      { crew: loadBuiltinCrew('extract'), document: DOC, params: { schema: strict } },
      { models: offline },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({
      kind: 'permanent',
      code: 'invalid_output',
      details: ['$.owner: expected string, got null'],
    });
  });

  it('rewrite: plainer words and shorter sentences, with a note naming the audience', async () => {
    const text =
      'Applicants must obtain approval prior to the purchase of additional equipment; the committee subsequently reviews every request, and it publishes a decision within approximately ten days.';
    const result = await sut(
      {
        crew: loadBuiltinCrew('rewrite'),
        document: { name: 'policy.md', text },
        params: { audience: 'new employees' },
      },
      { models: offline },
    );
    expect(result.output).toBe(
      '> Rewritten for new employees by the offline model: long sentences split and formal words replaced by plain ones; nothing else was changed.\n\n' +
        'Applicants must get approval before the buy of more equipment. The committee later reviews every request. It publishes a decision within about ten days.',
    );
  });

  it('review: a clean document is approved in the first round', async () => {
    const result = await sut({ crew: loadBuiltinCrew('review'), document: DOC }, { models: offline });
    expect(result.calls).toBe(2);
    expect(result.agentsRun).toEqual(['writer', 'critic']);
    expect(result.notes).toEqual(['review: approved after 1 round(s)']);
    expect(result.output).toContain('Corrosion was found on twelve of the forty steel cables');
  });

  it('review: a draft with a placeholder loops until maxRounds and reports the feedback', async () => {
    const text = `${REPORT}\n\nTODO: add the photos.`;
    const result = await sut(
      { crew: loadBuiltinCrew('review'), document: { name: 'r.md', text }, params: { maxRounds: '3' } },
      { models: offline },
    );
    expect(result.calls).toBe(6);
    expect(result.perAgent['writer'].calls).toBe(3);
    expect(result.notes[0]).toContain('review: not approved after 3 round(s)');
    expect(result.notes[0]).toContain('Unfinished placeholder left in the text: "TODO"');
  });

  it('review: maxRounds must be a whole number within bounds', async () => {
    await expect(
      sut(
        { crew: loadBuiltinCrew('review'), document: DOC, params: { maxRounds: '9' } },
        { models: offline },
      ),
    ).rejects.toMatchObject({ code: 'invalid_params', details: ['maxRounds: must be at most 5'] });
  });
});

describe('custom crews with tools on the offline model', () => {
  const sut = runCrew;

  /** A built-in crew's YAML with tools given to every agent (and a tool round limit on the crew). */
  function withTools(name: 'summarize' | 'review', tools: string[]): string {
    const crew = parseYaml(builtinCrewSource(name)) as {
      name: string;
      agents: Array<Record<string, unknown>>;
    };
    crew.name = `${crew.name}-with-tools`;
    for (const agent of crew.agents) agent['tools'] = tools;
    return stringifyYaml({ ...crew, maxToolRounds: 3 });
  }

  it.each([
    ['summarize' as const, { name: 'long.md', text: longDocument(20) }, { chunkTokens: 400 }],
    ['review' as const, DOC, {}],
  ])(
    '%s with tools: the same answer as without, since the offline model never calls them',
    async (name, document, options) => {
      const source = withTools(name, ['search_document', 'word_count', 'calculator', 'validate_json']);
      const crew = parseCrew(source, 'yaml');
      expect(crew.maxToolRounds).toBe(3);
      expect(crew.agents.map((a) => a.tools.length)).toEqual(crew.agents.map(() => 4));

      const withToolsResult = await sut({ crew, document }, { models: offline, ...options });
      const plain = await sut({ crew: loadBuiltinCrew(name), document }, { models: offline, ...options });

      expect(withToolsResult.output).toBe(plain.output);
      expect(withToolsResult).toMatchObject({
        calls: plain.calls,
        chunks: plain.chunks,
        toolCalls: 0,
        models: ['offline:offline'],
      });
      expect(withToolsResult.notes).toEqual(plain.notes);
    },
  );
});

describe('built-in crews on a scripted model', () => {
  const sut = runCrew;

  it('fills the parameters into the prompts', async () => {
    const model = new RecordingChatModel(['Bonjour']);
    await sut(
      { crew: loadBuiltinCrew('translate'), document: DOC, params: { targetLanguage: 'French' } },
      { models: fixedFactory(model) },
    );
    const [prompt] = model.parsedPrompts;
    expect(prompt.kind).toBe('translate');
    expect(prompt.agent.role).toBe('Translator into French');
    expect(prompt.sections['Task']).toBe(
      'Translate the document below into French. It may be one part of a longer document.',
    );
  });

  it('asks the real model for the provider and model the crew names', async () => {
    const factory = fixedFactory(new FakeListChatModel({ responses: ['summary'] }));
    const result = await sut({ crew: loadBuiltinCrew('summarize'), document: DOC }, { models: factory });
    expect(factory.specs).toEqual([{ provider: 'openai', model: 'gpt-4o-mini', temperature: 0.2 }]);
    expect(result.output).toBe('summary');
  });

  it('review: feeds the critic the draft and the writer the feedback', async () => {
    const model = new RecordingChatModel(['Draft A', 'Feedback: shorter', 'Draft B', 'APPROVED']);
    const result = await sut(
      { crew: loadBuiltinCrew('review'), document: DOC },
      { models: fixedFactory(model) },
    );
    expect(result.output).toBe('Draft B');
    expect(model.parsedPrompts.map((p) => p.kind)).toEqual(['write', 'critique', 'write', 'critique']);
    expect(model.parsedPrompts[2].blocks.find((b) => b.type === 'FEEDBACK')?.text).toBe('Feedback: shorter');
  });
});
