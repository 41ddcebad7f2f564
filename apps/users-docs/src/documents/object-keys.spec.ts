import {
  documentObjectKey,
  jobOutputsPrefix,
  parseDocumentObjectKey,
  sanitizeName,
  teamDocumentObjectKey,
} from './object-keys';

describe(sanitizeName.name, () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['Quarterly report (final).docx', 'Quarterly_report_final_.docx'],
    ['../../etc/passwd', 'etc_passwd'],
    ['résumé.txt', 'resume.txt'],
    ['文档.md', 'md'],
    ['...', 'document'],
    ['', 'document'],
    ['a/b\\c?d#e%f', 'a_b_c_d_e_f'],
  ])('%p becomes %p', (input, expected) => {
    expect(sanitizeName(input)).toBe(expected);
  });

  it('caps long names and keeps the extension', () => {
    const sut = sanitizeName('x'.repeat(300) + '.pdf');
    expect(sut).toHaveLength(128);
    expect(sut.endsWith('.pdf')).toBe(true);
  });
});

describe(parseDocumentObjectKey.name, () => {
  const userId = '11111111-2222-4333-8444-555555555555';
  const docId = '66666666-7777-4888-9999-aaaaaaaaaaaa';

  it('reads the ids back from a key it made', () => {
    expect(parseDocumentObjectKey(documentObjectKey(userId, docId, 'a b.txt'))).toEqual({
      ownerType: 'user',
      ownerId: userId,
      docId,
    });
  });

  it("reads a team's document key as the team's", () => {
    expect(teamDocumentObjectKey(userId, docId, 'a b.txt')).toBe(`teams/${userId}/docs/${docId}/a_b.txt`);
    expect(parseDocumentObjectKey(teamDocumentObjectKey(userId, docId, 'a b.txt'))).toEqual({
      ownerType: 'team',
      ownerId: userId,
      docId,
    });
  });

  it('reads upper-case ids as their canonical lower-case form', () => {
    expect(parseDocumentObjectKey(`users/${userId.toUpperCase()}/docs/${docId.toUpperCase()}/a.txt`)).toEqual(
      { ownerType: 'user', ownerId: userId, docId },
    );
  });

  it('ignores a key with control characters', () => {
    expect(parseDocumentObjectKey(`users/${userId}/docs/${docId}/a\u0000b`)).toBeUndefined();
  });

  it.each([
    ['other/key.txt'],
    [`users/${userId}/docs/${docId}`],
    [`users/${userId}/docs/${docId}/a/b`],
    [`users/x/docs/${docId}/a`],
    [`groups/${userId}/docs/${docId}/a`],
    [`teams/${userId}/jobs/${docId}/outputs/a.md`],
  ])('ignores %p', (key) => {
    expect(parseDocumentObjectKey(key)).toBeUndefined();
  });
});

describe(jobOutputsPrefix.name, () => {
  it("puts a team job's outputs under the team, a user's under the user", () => {
    expect(jobOutputsPrefix({ userId: 'u' }, 'j')).toBe('users/u/jobs/j/outputs/');
    expect(jobOutputsPrefix({ userId: 'u', teamId: 't' }, 'j')).toBe('teams/t/jobs/j/outputs/');
  });
});
