/** Structured extraction: JSON validated against the caller's schema; chunk results are merged field by field. */
export const EXTRACT_CREW = `
name: extract
description: Extract structured data from a document as JSON that conforms to a given JSON schema.
defaults: { provider: openai, model: gpt-4o-mini, temperature: 0 }
params:
  schema:
    type: json-schema
    description: |
      The JSON schema of the answer. Supported keywords: type, properties, required, items, enum
      (plus description and title).
agents:
  - id: extractor
    role: Data extractor
    goal: Read documents and return exactly the data asked for, as JSON.
    instructions: |
      Take values only from the document; never guess. Use null for a value the document does not give.
      Numbers are JSON numbers without units or thousands separators; booleans are true or false.
tasks:
  - id: extract-fields
    kind: extract
    agent: extractor
    format: json
    jsonSchemaParam: schema
    description: |
      Extract the data described by the JSON schema (JSON-SCHEMA block) from the document below. The document
      may be one part of a longer document.
    expectedOutput: One JSON object that conforms to the schema.
process:
  type: map-reduce
  map: extract-fields
  combine: json-merge
`;
