/** Rewrites for an audience, chunk by chunk; the rewritten chunks are concatenated in order. */
export const REWRITE_CREW = `
name: rewrite
description: Rewrite a document for a given audience, keeping its meaning.
defaults: { provider: openai, model: gpt-4o-mini, temperature: 0.4 }
params:
  audience:
    description: Who will read the result, e.g. "new employees" or "children aged 10".
agents:
  - id: rewriter
    role: Plain-language writer
    goal: Make documents easy to read for {{audience}} without changing what they say.
    instructions: |
      Prefer short sentences and common words. Keep every fact, number and name. Keep the Markdown structure.
tasks:
  - id: rewrite-chunk
    kind: rewrite
    agent: rewriter
    description: Rewrite the document below for {{audience}}. It may be one part of a longer document.
    expectedOutput: The rewritten text in Markdown, and nothing else.
process:
  type: map-reduce
  map: rewrite-chunk
  combine: concat
`;
