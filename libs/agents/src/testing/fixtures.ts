/** A short report with headings, key/value lines and prose: enough for every offline task kind. */
export const REPORT = `# Harbor Bridge Inspection Report

Inspector: Maria Lopez
Inspection date: 2026-03-14
Bridge ID: HB-2041
Span length: 1,250 meters
Load rating: 42.5 tonnes
Repairs needed: yes
Condition: fair
Contact: maria.lopez@example.org

## Findings

The Harbor Bridge was inspected over three days by a team of four engineers. Corrosion was found on twelve of the forty steel cables, mostly near the northern anchorage. The concrete deck shows hairline cracks that do not yet affect the load rating. Drainage channels on the western side are blocked by debris, which accelerates corrosion of the supports. The expansion joints moved within their design limits during the thermal cycle tests.

## Recommendations

The corroded cables must be replaced within eighteen months. The drainage channels should be cleared before the winter season begins. The deck cracks should be sealed during the next scheduled maintenance window. A follow-up inspection of the northern anchorage is recommended in six months.

## Budget

The estimated cost of the cable replacement is 3.2 million euros. Clearing the drainage channels costs approximately 40,000 euros and can commence immediately.
`;

/** Paragraphs of distinct, numbered sentences: a long document whose chunks are easy to tell apart. */
export function longDocument(paragraphs: number, sentencesPerParagraph = 6): string {
  const topics = ['river', 'forest', 'harbor', 'valley', 'mountain', 'desert', 'glacier', 'meadow'];
  const out: string[] = [];
  for (let p = 0; p < paragraphs; p++) {
    const topic = topics[p % topics.length];
    const sentences: string[] = [];
    for (let s = 0; s < sentencesPerParagraph; s++) {
      sentences.push(
        `Paragraph ${p + 1} sentence ${s + 1} describes the ${topic} survey results in careful detail.`,
      );
    }
    out.push(`## Section ${p + 1}\n\n${sentences.join(' ')}`);
  }
  return out.join('\n\n');
}
