import { convertToOpenAITool } from '@langchain/core/utils/function_calling';
import { createTools, isToolName, TOOL_NAMES, unknownToolMessage } from './registry';

const DOC = { name: 'a.md', text: 'One document.' };

describe(createTools.name, () => {
  const sut = createTools;

  it('knows the four built-in tools', () => {
    expect(TOOL_NAMES).toEqual(['calculator', 'search_document', 'validate_json', 'word_count']);
    expect(isToolName('calculator')).toBe(true);
    expect(isToolName('toString')).toBe(false);
  });

  it('builds the named tools, in order, each with a description and an object schema', () => {
    const tools = sut(['word_count', 'calculator', 'search_document', 'validate_json'], { document: DOC });

    expect(tools.map((t) => t.name)).toEqual([
      'word_count',
      'calculator',
      'search_document',
      'validate_json',
    ]);
    for (const tool of tools) {
      const spec = convertToOpenAITool(tool);
      expect(spec.function.description?.length).toBeGreaterThan(40);
      expect(spec.function.parameters).toMatchObject({ type: 'object' });
    }
  });

  it('builds fresh instances bound to the given document', async () => {
    const [a] = sut(['word_count'], { document: DOC });
    const [b] = sut(['word_count'], { document: { name: 'b.md', text: 'Two more words.' } });

    expect(a).not.toBe(b);
    expect(JSON.parse(String(await a.invoke({})))).toMatchObject({ of: 'document a.md', words: 2 });
    expect(JSON.parse(String(await b.invoke({})))).toMatchObject({ of: 'document b.md', words: 3 });
  });

  it('refuses an unknown name', () => {
    expect(() => sut(['calculator', 'web_search'], { document: DOC })).toThrow(
      unknownToolMessage('web_search'),
    );
    expect(unknownToolMessage('x')).toBe(
      'unknown tool "x"; known: calculator, search_document, validate_json, word_count',
    );
  });
});
