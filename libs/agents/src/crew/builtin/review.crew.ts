/** A writer improves the document, a critic reviews each draft; up to maxRounds drafts. */
export const REVIEW_CREW = `
name: review
description: Improve a document with a writer and a critic, until the critic approves or maxRounds drafts.
defaults: { provider: openai, model: gpt-4o-mini, temperature: 0.3 }
params:
  maxRounds:
    type: integer
    default: 2
    min: 1
    max: 5
    description: How many drafts the writer may write at most.
agents:
  - id: writer
    role: Writer
    goal: Produce a clear, correct, complete version of the document.
    instructions: |
      Keep every fact of the original. When there is feedback, address each point of it.
      Answer with the full revised document in Markdown and nothing else.
  - id: critic
    role: Critic
    goal: Decide whether a draft is ready, and say precisely what to fix when it is not.
    instructions: |
      Compare the draft with the original document. If it is ready, answer APPROVED on the first line.
      Otherwise answer "Feedback:" followed by a list of concrete fixes.
tasks:
  - id: draft
    kind: write
    agent: writer
    description: Improve the document below (clarity, correctness, structure). When a previous draft and feedback are given, revise that draft.
    expectedOutput: The full improved document in Markdown.
  - id: critique
    kind: critique
    agent: critic
    context: [draft]
    description: Review the draft (CONTEXT block) against the original document.
    expectedOutput: APPROVED on the first line, or "Feedback:" and a list of fixes.
process:
  type: sequential
  review: { writer: draft, critic: critique, maxRounds: '{{maxRounds}}' }
output: draft
`;
