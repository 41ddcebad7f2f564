import type { StorageEventRecord } from '@docflow/contracts';
import type { DocumentEntity } from '../documents/document.entity';
import type { DocumentsRepository } from '../documents/documents.repository';
import { documentObjectKey, teamDocumentObjectKey } from '../documents/object-keys';
import { FakeDocumentsRepository, FakeStorage, FixedClock, asStorage } from '../testing/fakes';
import { ApplyStorageEventsUseCase } from './apply-storage-events.usecase';

const userId = '11111111-2222-4333-8444-555555555555';
const docId = '66666666-7777-4888-9999-aaaaaaaaaaaa';
const key = documentObjectKey(userId, docId, 'notes.txt');

function document(overrides: Partial<DocumentEntity> = {}): DocumentEntity {
  const at = new Date('2026-11-23T09:00:00.000Z');
  return {
    id: docId,
    userId,
    teamId: null,
    ownerUserId: userId,
    name: 'notes.txt',
    kind: 'upload',
    contentType: 'text/plain',
    size: 11,
    status: 'pending_upload',
    statusReason: null,
    objectKey: key,
    etag: null,
    createdAt: at,
    updatedAt: at,
    uploadedAt: null,
    deletedAt: null,
    jobId: null,
    sourceDocIds: null,
    ...overrides,
  };
}

const created = (overrides: Partial<StorageEventRecord> = {}): StorageEventRecord => ({
  eventName: 's3:ObjectCreated:Put',
  bucket: 'docflow',
  key,
  size: 11,
  eTag: '"abc"',
  ...overrides,
});
const removed = (): StorageEventRecord => ({ eventName: 's3:ObjectRemoved:Delete', bucket: 'docflow', key });

describe(ApplyStorageEventsUseCase.name, () => {
  let documents: FakeDocumentsRepository;
  let storage: FakeStorage;
  let sut: ApplyStorageEventsUseCase;

  beforeEach(() => {
    documents = new FakeDocumentsRepository();
    storage = new FakeStorage();
    sut = new ApplyStorageEventsUseCase(
      documents as unknown as DocumentsRepository,
      asStorage(storage),
      new FixedClock(),
    );
  });

  it('marks a pending document uploaded when the stored size matches', async () => {
    await documents.insert(document());
    const out = await sut.execute({ records: [created()] });
    expect(out.results).toEqual([
      { key, eventName: 's3:ObjectCreated:Put', outcome: 'uploaded', documentId: docId },
    ]);
    expect(documents.rows.get(docId)).toMatchObject({
      status: 'uploaded',
      etag: 'abc',
      uploadedAt: expect.any(Date),
    });
  });

  it('accepts the AWS spelling of event names (no s3: prefix)', async () => {
    await documents.insert(document());
    const out = await sut.execute({ records: [created({ eventName: 'ObjectCreated:Put' })] });
    expect(out.results[0]?.outcome).toBe('uploaded');
  });

  it('changes nothing when the same event arrives twice', async () => {
    await documents.insert(document());
    await sut.execute({ records: [created()] });
    const before = { ...documents.rows.get(docId) };
    const out = await sut.execute({ records: [created()] });
    expect(out.results[0]?.outcome).toBe('unchanged');
    expect(documents.rows.get(docId)).toEqual(before);
  });

  it('rejects a document whose stored size differs, with the reason, and removes the object', async () => {
    await documents.insert(document());
    storage.objects.set(key, 99);
    const out = await sut.execute({ records: [created({ size: 99 })] });
    expect(out.results[0]?.outcome).toBe('rejected');
    expect(documents.rows.get(docId)).toMatchObject({
      status: 'rejected',
      statusReason: 'size mismatch: declared 11 bytes, stored 99 bytes',
    });
    expect(storage.deleted).toEqual([key]);
  });

  it('looks the size up when the event carries none', async () => {
    await documents.insert(document());
    storage.objects.set(key, 11);
    const out = await sut.execute({ records: [created({ size: undefined })] });
    expect(out.results[0]?.outcome).toBe('uploaded');
  });

  it('removes an object that landed for a deleted document', async () => {
    await documents.insert(document({ status: 'deleted', deletedAt: new Date() }));
    const out = await sut.execute({ records: [created()] });
    expect(out.results[0]?.outcome).toBe('orphan_removed');
    expect(storage.deleted).toEqual([key]);
    expect(documents.rows.get(docId)?.status).toBe('deleted');
  });

  it('removes an object whose document is unknown (its user was deleted)', async () => {
    const out = await sut.execute({ records: [created()] });
    expect(out.results[0]?.outcome).toBe('orphan_removed');
    expect(storage.deleted).toEqual([key]);
  });

  it('marks an uploaded document deleted when its object is removed, once', async () => {
    await documents.insert(document({ status: 'uploaded' }));
    expect((await sut.execute({ records: [removed()] })).results[0]?.outcome).toBe('deleted');
    expect((await sut.execute({ records: [removed()] })).results[0]?.outcome).toBe('unchanged');
    expect(documents.rows.get(docId)).toMatchObject({
      status: 'deleted',
      statusReason: 'the object was removed from storage',
    });
  });

  it('removes the object of a rejected document again on a later event, in case the first removal failed', async () => {
    await documents.insert(document());
    storage.failing = true;
    await expect(sut.execute({ records: [created({ size: 99 })] })).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
    });
    expect(documents.rows.get(docId)?.status).toBe('rejected');
    storage.failing = false;
    const retry = await sut.execute({ records: [created({ size: 99 })] });
    expect(retry.results[0]?.outcome).toBe('unchanged');
    expect(storage.deleted).toEqual([key]);
  });

  it('matches keys whatever the case of their ids', async () => {
    await documents.insert(document({ objectKey: key }));
    const out = await sut.execute({
      records: [created({ key: key.toUpperCase().replace('NOTES.TXT', 'notes.txt') })],
    });
    // The key of the event names another object than the document's: it is an orphan under our prefix.
    expect(out.results[0]?.outcome).toBe('orphan_removed');
  });

  it('does not bring a rejected document back', async () => {
    await documents.insert(document({ status: 'rejected', statusReason: 'size mismatch' }));
    expect((await sut.execute({ records: [created()] })).results[0]?.outcome).toBe('unchanged');
    expect((await sut.execute({ records: [removed()] })).results[0]?.outcome).toBe('unchanged');
    expect(documents.rows.get(docId)?.status).toBe('rejected');
  });

  it.each([
    ['another bucket', created({ bucket: 'elsewhere' })],
    ['a key outside docflow', created({ key: 'backups/db.sql' })],
    ['an event it does not handle', created({ eventName: 's3:ObjectAccessed:Get' })],
  ])('ignores %s and touches nothing', async (_label, record) => {
    await documents.insert(document());
    const out = await sut.execute({ records: [record] });
    expect(out.results[0]?.outcome).toBe('ignored');
    expect(documents.rows.get(docId)?.status).toBe('pending_upload');
    expect(storage.deleted).toEqual([]);
  });

  it("applies upload and removal events to a team's document (its key is under the team)", async () => {
    const teamId = '99999999-7777-4888-9999-aaaaaaaaaaaa';
    const teamKey = teamDocumentObjectKey(teamId, docId, 'notes.txt');
    await documents.insert(document({ teamId, ownerUserId: null, objectKey: teamKey }));
    const up = await sut.execute({ records: [created({ key: teamKey })] });
    expect(up.results[0]).toMatchObject({ outcome: 'uploaded', documentId: docId });
    const gone = await sut.execute({ records: [{ ...removed(), key: teamKey }] });
    expect(gone.results[0]).toMatchObject({ outcome: 'deleted', documentId: docId });
  });

  it("removes an object that landed under a deleted team's prefix (no document left)", async () => {
    const teamKey = teamDocumentObjectKey('99999999-7777-4888-9999-aaaaaaaaaaaa', docId, 'late.txt');
    const out = await sut.execute({ records: [created({ key: teamKey })] });
    expect(out.results[0]?.outcome).toBe('orphan_removed');
    expect(storage.deleted).toEqual([teamKey]);
  });

  it('handles each record of a batch on its own', async () => {
    await documents.insert(document());
    const out = await sut.execute({ records: [created(), created(), removed()] });
    expect(out.results.map((r) => r.outcome)).toEqual(['uploaded', 'unchanged', 'deleted']);
  });
});
