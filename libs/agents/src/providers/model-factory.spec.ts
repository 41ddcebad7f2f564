import { FakeListChatModel } from '@langchain/core/utils/testing';
import { EngineError } from '../errors';
import { createModelFactory, type ModelSpec } from './model-factory';
import { OfflineChatModel } from './offline';

describe(createModelFactory.name, () => {
  it('serves provider offline with the offline model', () => {
    const sut = createModelFactory({});
    const model = sut({ provider: 'offline', model: 'extractive' });
    expect(model).toBeInstanceOf(OfflineChatModel);
    expect((model as OfflineChatModel).model).toBe('extractive');
  });

  it.each(['openai', 'openai-compatible', 'azure', 'ollama', 'vllm'])(
    'delegates %s to the openai factory',
    (provider) => {
      const fake = new FakeListChatModel({ responses: ['x'] });
      const seen: ModelSpec[] = [];
      const sut = createModelFactory({ openai: (spec) => (seen.push(spec), fake) });
      expect(sut({ provider, model: 'm', temperature: 0.5 })).toBe(fake);
      expect(seen).toEqual([{ provider, model: 'm', temperature: 0.5 }]);
    },
  );

  it('serves every provider offline when offline is set', () => {
    const sut = createModelFactory({
      offline: true,
      openai: () => new FakeListChatModel({ responses: ['x'] }),
    });
    expect(sut({ provider: 'openai', model: 'gpt-4o' })).toBeInstanceOf(OfflineChatModel);
  });

  it('fails permanently on an unknown or unconfigured provider, naming it', () => {
    const sut = createModelFactory({});
    expect(() => sut({ provider: 'anthropic', model: 'x' })).toThrow(
      new EngineError('permanent', 'unknown_provider', 'unknown model provider "anthropic"'),
    );
    expect(() => sut({ provider: 'openai', model: 'x' })).toThrow('provider "openai" is not configured');
    try {
      sut({ provider: 'anthropic', model: 'x' });
    } catch (error) {
      expect(error).toMatchObject({ kind: 'permanent', code: 'unknown_provider' });
    }
  });
});
