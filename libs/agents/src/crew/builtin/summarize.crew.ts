/** Map-reduce summary: one summary per chunk, then one merged summary. A short document is summarized at once. */
export const SUMMARIZE_CREW = `
name: summarize
description: Summarize a document of any length, with keywords and an outline of its headings.
defaults: { provider: openai, model: gpt-4o-mini, temperature: 0.2 }
agents:
  - id: summarizer
    role: Summarizer
    goal: Capture what a part of a document says, faithfully and briefly.
    instructions: |
      Use only what the text says; never add facts. Keep names, numbers and dates exact.
      Answer in Markdown with the sections "## Summary", "## Keywords" (comma separated) and "## Outline"
      (the document's headings as a nested list; leave the section out when there are none).
  - id: editor
    role: Editor
    goal: Merge partial summaries into one coherent summary of the whole document.
    instructions: |
      Remove repetition between the parts, keep the order of the document, keep every important fact.
      Answer in Markdown with the sections "## Summary", "## Keywords" and "## Outline".
tasks:
  - id: summarize-chunk
    kind: summarize
    agent: summarizer
    description: Summarize the document below (it may be one part of a longer document).
    expectedOutput: A summary of a few sentences, up to ten keywords, and the outline of the headings.
  - id: merge-summaries
    kind: summarize-merge
    agent: editor
    context: [summarize-chunk]
    description: Merge the summaries of the consecutive parts of one document (CONTEXT blocks, in order) into one.
    expectedOutput: One summary of the whole document, up to ten keywords, and the combined outline.
process:
  type: map-reduce
  map: summarize-chunk
  reduce: merge-summaries
`;
