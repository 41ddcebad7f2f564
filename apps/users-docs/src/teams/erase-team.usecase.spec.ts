import { ErrorCode } from '@docflow/contracts';
import type { DocumentEntity } from '../documents/document.entity';
import type { DocumentsRepository } from '../documents/documents.repository';
import { FakeDocumentsRepository, FakeStorage, FixedClock, asStorage } from '../testing/fakes';
import { EraseTeamUseCase } from './erase-team.usecase';

const teamId = 'aaaaaaaa-2222-4333-8444-555555555555';
const otherTeam = 'bbbbbbbb-2222-4333-8444-555555555555';
const userId = '11111111-2222-4333-8444-555555555555';

function doc(id: string, over: Partial<DocumentEntity>): DocumentEntity {
  const at = new Date('2026-11-23T09:00:00.000Z');
  return {
    id,
    userId,
    teamId: null,
    ownerUserId: userId,
    name: 'a.txt',
    kind: 'upload',
    contentType: 'text/plain',
    size: 1,
    status: 'uploaded',
    statusReason: null,
    objectKey: `users/${userId}/docs/${id}/a.txt`,
    etag: null,
    createdAt: at,
    updatedAt: at,
    uploadedAt: at,
    deletedAt: null,
    jobId: null,
    sourceDocIds: null,
    ...over,
  };
}

describe(EraseTeamUseCase.name, () => {
  let documents: FakeDocumentsRepository;
  let storage: FakeStorage;
  let sut: EraseTeamUseCase;

  beforeEach(async () => {
    documents = new FakeDocumentsRepository();
    storage = new FakeStorage();
    sut = new EraseTeamUseCase(
      documents as unknown as DocumentsRepository,
      asStorage(storage),
      new FixedClock(),
    );
    const team = (id: string, t: string) =>
      doc(id, { teamId: t, ownerUserId: null, objectKey: `teams/${t}/docs/${id}/a.txt` });
    for (const d of [team('t1', teamId), team('t2', teamId), team('o1', otherTeam), doc('u1', {})]) {
      await documents.insert(d);
      storage.objects.set(d.objectKey, 1);
    }
    storage.objects.set(`teams/${teamId}/jobs/j/outputs/x.md`, 1);
  });

  it("erases the team's documents and every object under its prefix, nobody else's", async () => {
    const out = await sut.execute(teamId.toUpperCase(), 'event-1');
    expect(out).toEqual({ documentIds: ['t1', 't2'], objects: 3 });
    expect([...documents.rows.keys()].sort()).toEqual(['o1', 'u1']);
    expect([...storage.objects.keys()].sort()).toEqual([
      `teams/${otherTeam}/docs/o1/a.txt`,
      `users/${userId}/docs/u1/a.txt`,
    ]);
    expect(documents.deletedTeams.get(teamId)).toBe('event-1');
  });

  it('changes nothing more when the event comes again; the first event id stays', async () => {
    await sut.execute(teamId, 'event-1');
    expect(await sut.execute(teamId, 'event-2')).toEqual({ documentIds: [], objects: 0 });
    expect(documents.deletedTeams.get(teamId)).toBe('event-1');
  });

  it('fails as STORAGE_UNAVAILABLE when storage is down (retried), then finishes on the next try', async () => {
    storage.failing = true;
    await expect(sut.execute(teamId, 'event-1')).rejects.toMatchObject({
      code: ErrorCode.STORAGE_UNAVAILABLE,
    });
    // The team is recorded as deleted already: nothing new is stored for it meanwhile.
    expect(documents.deletedTeams.has(teamId)).toBe(true);
    storage.failing = false;
    await sut.execute(teamId, 'event-1');
    expect([...storage.objects.keys()].filter((k) => k.startsWith(`teams/${teamId}/`))).toEqual([]);
  });
});
