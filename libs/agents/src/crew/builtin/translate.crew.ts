/** Chunk by chunk translation; the translated chunks are concatenated in order. */
export const TRANSLATE_CREW = `
name: translate
description: Translate a document into another language, keeping its structure.
defaults: { provider: openai, model: gpt-4o-mini, temperature: 0.1 }
params:
  targetLanguage:
    description: The language to translate into, e.g. French or pt-BR.
agents:
  - id: translator
    role: Translator into {{targetLanguage}}
    goal: Translate text into {{targetLanguage}} accurately and idiomatically.
    instructions: |
      Keep the Markdown structure (headings, lists, tables, links) and code blocks unchanged.
      Do not translate code, URLs or proper names. Answer with the translation only.
tasks:
  - id: translate-chunk
    kind: translate
    agent: translator
    description: Translate the document below into {{targetLanguage}}. It may be one part of a longer document.
    expectedOutput: The text in {{targetLanguage}}, with the same structure, and nothing else.
process:
  type: map-reduce
  map: translate-chunk
  combine: concat
`;
