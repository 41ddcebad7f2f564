import { ErrorCode, PLAN_QUOTAS, documentQuotaRefusal } from '@docflow/contracts';
import type { UsersDocsConfig } from '../config';
import type { UsersRepository } from '../users/users.repository';
import {
  FakeDocumentsRepository,
  FakeStorage,
  FakeUsersRepository,
  FixedClock,
  asStorage,
} from '../testing/fakes';
import type { DocumentQuota } from './document-quota';
import type { DocumentsRepository } from './documents.repository';
import { DocumentsService } from './documents.service';

const userId = '11111111-2222-4333-8444-555555555555';
const teamId = 'aaaaaaaa-2222-4333-8444-555555555555';
const otherTeam = 'bbbbbbbb-2222-4333-8444-555555555555';
const jobId = '77777777-2222-4333-8444-555555555555';
const config = {
  MAX_DOCUMENT_SIZE_BYTES: 1000,
  UPLOAD_URL_TTL_SECONDS: 900,
  DOWNLOAD_URL_TTL_SECONDS: 300,
} as UsersDocsConfig;

describe(DocumentsService.name, () => {
  let documents: FakeDocumentsRepository;
  let storage: FakeStorage;
  let sut: DocumentsService;
  let quota: { admission: jest.Mock };

  beforeEach(() => {
    quota = { admission: jest.fn().mockResolvedValue(undefined) };
    documents = new FakeDocumentsRepository();
    storage = new FakeStorage();
    sut = new DocumentsService(
      documents as unknown as DocumentsRepository,
      new FakeUsersRepository(new Set([userId])) as unknown as UsersRepository,
      asStorage(storage),
      config,
      new FixedClock(),
      quota as unknown as DocumentQuota,
    );
  });

  describe('create', () => {
    it('registers a pending document under its key and returns a presigned PUT', async () => {
      const out = await sut.create({ userId, name: 'My notes.txt', contentType: 'text/plain', size: 10 });
      expect(out).toMatchObject({
        userId,
        name: 'My notes.txt',
        status: 'pending_upload',
        size: 10,
        kind: 'upload',
      });
      expect(out.upload).toMatchObject({ method: 'PUT', headers: { 'Content-Type': 'text/plain' } });
      expect(out.upload.url).toContain(`users/${userId}/docs/${out.id}/My_notes.txt`);
      expect(out.upload.url).toContain('X-Amz-Expires=900');
      expect(documents.rows.get(out.id)?.objectKey).toBe(`users/${userId}/docs/${out.id}/My_notes.txt`);
    });

    it("checks the creating user's quota with the declared size, and stores nothing when it refuses", async () => {
      quota.admission.mockRejectedValueOnce(
        documentQuotaRefusal({ documents: 100, bytes: 0 }, 10, PLAN_QUOTAS.free, 'free'),
      );
      await expect(
        sut.create({ userId, teamId, name: 'a.txt', contentType: 'text/plain', size: 10 }),
      ).rejects.toMatchObject({ code: ErrorCode.QUOTA_EXCEEDED, details: { field: 'quota.maxDocuments' } });
      expect(quota.admission).toHaveBeenCalledWith(userId, 10);
      expect(documents.rows.size).toBe(0);
    });

    it('refuses a declared size over the maximum, naming the field, and stores nothing', async () => {
      await expect(
        sut.create({ userId, name: 'big.bin', contentType: 'application/octet-stream', size: 1001 }),
      ).rejects.toMatchObject({
        code: ErrorCode.VALIDATION_FAILED,
        details: [{ field: 'size', message: 'must not exceed 1000 bytes' }],
      });
      expect(documents.rows.size).toBe(0);
    });

    it('answers 404 for an unknown user', async () => {
      await expect(
        sut.create({
          userId: '99999999-2222-4333-8444-555555555555',
          name: 'a',
          contentType: 'text/plain',
          size: 1,
        }),
      ).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    });
  });

  describe('get', () => {
    it('carries a download only once uploaded', async () => {
      const { id } = await sut.create({ userId, name: 'a.txt', contentType: 'text/plain', size: 1 });
      expect((await sut.get({ userId, docId: id })).download).toBeUndefined();
      await documents.transition(id, ['pending_upload'], { status: 'uploaded' });
      expect((await sut.get({ userId, docId: id })).download?.url).toContain('?get');
    });

    it("hides another user's document", async () => {
      const { id } = await sut.create({ userId, name: 'a.txt', contentType: 'text/plain', size: 1 });
      await expect(
        sut.get({ userId: '99999999-2222-4333-8444-555555555555', docId: id }),
      ).rejects.toMatchObject({
        code: ErrorCode.NOT_FOUND,
      });
    });
  });

  describe('delete', () => {
    it('removes the object and then answers 404', async () => {
      const { id } = await sut.create({ userId, name: 'a.txt', contentType: 'text/plain', size: 1 });
      await sut.delete({ userId, docId: id });
      expect(storage.deleted).toEqual([documents.rows.get(id)?.objectKey]);
      expect(documents.rows.get(id)).toMatchObject({ status: 'deleted', deletedAt: expect.any(Date) });
      await expect(sut.get({ userId, docId: id })).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    });

    it('marks the document deleted before removing its object, so a late upload is an orphan', async () => {
      const { id } = await sut.create({ userId, name: 'a.txt', contentType: 'text/plain', size: 1 });
      const statusWhenRemoved: string[] = [];
      const remove = storage.delete.bind(storage);
      storage.delete = async (key: string) => {
        statusWhenRemoved.push(documents.rows.get(id)!.status);
        return remove(key);
      };
      await sut.delete({ userId, docId: id });
      expect(statusWhenRemoved).toEqual(['deleted']);
    });

    it('builds keys from the canonical (lower-case) user id', async () => {
      const upper = userId.toUpperCase();
      const out = await sut.create({ userId: upper, name: 'a.txt', contentType: 'text/plain', size: 1 });
      expect(out.userId).toBe(userId);
      expect(documents.rows.get(out.id)!.objectKey.startsWith(`users/${userId}/`)).toBe(true);
    });

    it('keeps the document when storage is down', async () => {
      const { id } = await sut.create({ userId, name: 'a.txt', contentType: 'text/plain', size: 1 });
      storage.failing = true;
      await expect(sut.delete({ userId, docId: id })).rejects.toMatchObject({
        code: ErrorCode.STORAGE_UNAVAILABLE,
      });
      expect(documents.rows.get(id)?.status).toBe('pending_upload');
    });
  });

  describe('resolve', () => {
    it("answers 404 naming ids that are unknown or another user's, 400 naming ids not uploaded", async () => {
      const a = await sut.create({ userId, name: 'a.txt', contentType: 'text/plain', size: 1 });
      const b = await sut.create({ userId, name: 'b.txt', contentType: 'text/plain', size: 2 });
      await documents.transition(a.id, ['pending_upload'], { status: 'uploaded' });
      const unknown = '99999999-2222-4333-8444-555555555555';
      await expect(sut.resolve({ userId, docIds: [a.id, unknown] })).rejects.toMatchObject({
        code: ErrorCode.NOT_FOUND,
        details: { docIds: [unknown] },
      });
      await expect(sut.resolve({ userId: unknown, docIds: [a.id] })).rejects.toMatchObject({
        code: ErrorCode.NOT_FOUND,
      });
      await expect(sut.resolve({ userId, docIds: [a.id, b.id] })).rejects.toMatchObject({
        code: ErrorCode.VALIDATION_FAILED,
        details: [{ field: 'docIds', message: `${b.id} is pending_upload, not uploaded` }],
      });
      expect(await sut.resolve({ userId, docIds: [a.id, a.id.toUpperCase()] })).toEqual([
        expect.objectContaining({ docId: a.id, name: 'a.txt', key: `users/${userId}/docs/${a.id}/a.txt` }),
      ]);
    });
  });

  describe('registerOutput', () => {
    it('makes an uploaded output document once per object key', async () => {
      const request = {
        userId,
        jobId: '77777777-2222-4333-8444-555555555555',
        sourceDocIds: ['88888888-2222-4333-8444-555555555555'],
        key: `users/${userId}/jobs/77777777-2222-4333-8444-555555555555/outputs/x.md`,
        name: 'x.summary.md',
        contentType: 'text/markdown',
        size: 42,
      };
      const first = await sut.registerOutput(request);
      const second = await sut.registerOutput(request);
      expect(second.id).toBe(first.id);
      expect(first).toMatchObject({
        kind: 'output',
        status: 'uploaded',
        jobId: request.jobId,
        sourceDocIds: request.sourceDocIds,
      });
      expect((await sut.get({ userId, docId: first.id })).download?.url).toContain('x.md');
    });
  });

  describe("a team's documents", () => {
    const upload = (over: Record<string, unknown> = {}) =>
      sut.create({ userId, teamId, name: 'Team plan.txt', contentType: 'text/plain', size: 5, ...over });

    it('creates under the team prefix, the member recorded as creator', async () => {
      const out = await upload({ teamId: teamId.toUpperCase() });
      expect(out).toMatchObject({ userId, teamId, status: 'pending_upload' });
      const row = documents.rows.get(out.id)!;
      expect(row).toMatchObject({ teamId, ownerUserId: null });
      expect(row.objectKey).toBe(`teams/${teamId}/docs/${out.id}/Team_plan.txt`);
      expect(out.upload.url).toContain(`teams/${teamId}/docs/${out.id}/`);
    });

    it("never shows a team's document through the user's own routes, nor a user's through the team's", async () => {
      const teamDoc = await upload();
      const own = await sut.create({ userId, name: 'mine.txt', contentType: 'text/plain', size: 1 });
      expect((await sut.list({ userId })).items.map((d) => d.id)).toEqual([own.id]);
      expect((await sut.list({ userId, teamId })).items.map((d) => d.id)).toEqual([teamDoc.id]);
      expect((await sut.list({ userId, teamId: otherTeam })).items).toEqual([]);
      await expect(sut.get({ userId, docId: teamDoc.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(sut.delete({ userId, docId: teamDoc.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(sut.get({ userId, teamId, docId: own.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(sut.get({ userId, teamId: otherTeam, docId: teamDoc.id })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      expect(documents.rows.get(teamDoc.id)?.status).toBe('pending_upload');
    });

    it("is read and deleted by any member the gateway let through (another member's id included)", async () => {
      const doc = await upload();
      await documents.transition(doc.id, ['pending_upload'], { status: 'uploaded' });
      const other = { userId: '22222222-2222-4333-8444-555555555555', teamId };
      expect((await sut.get({ ...other, docId: doc.id })).download?.url).toContain(`teams/${teamId}/`);
      await sut.delete({ ...other, docId: doc.id });
      expect(documents.rows.get(doc.id)).toMatchObject({
        status: 'deleted',
        statusReason: 'deleted by a member of the team',
      });
      expect(storage.deleted).toEqual([documents.rows.get(doc.id)!.objectKey]);
    });

    it("resolves only the team's uploaded documents for a team job", async () => {
      const doc = await upload();
      const own = await sut.create({ userId, name: 'mine.txt', contentType: 'text/plain', size: 1 });
      await documents.transition(doc.id, ['pending_upload'], { status: 'uploaded' });
      await documents.transition(own.id, ['pending_upload'], { status: 'uploaded' });
      expect(await sut.resolve({ userId, teamId, docIds: [doc.id] })).toEqual([
        expect.objectContaining({ docId: doc.id, key: `teams/${teamId}/docs/${doc.id}/Team_plan.txt` }),
      ]);
      await expect(sut.resolve({ userId, teamId, docIds: [own.id] })).rejects.toMatchObject({
        code: 'NOT_FOUND',
        details: { docIds: [own.id] },
      });
      await expect(sut.resolve({ userId, docIds: [doc.id] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it("registers a team job's output as the team's, only from under the team's outputs", async () => {
      const base = {
        userId,
        teamId,
        jobId,
        sourceDocIds: [],
        name: 'x.md',
        contentType: 'text/markdown',
        size: 3,
      };
      await expect(
        sut.registerOutput({ ...base, key: `users/${userId}/jobs/${jobId}/outputs/x.md` }),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'key' }] });
      const out = await sut.registerOutput({ ...base, key: `teams/${teamId}/jobs/${jobId}/outputs/x.md` });
      expect(out).toMatchObject({ userId, teamId, kind: 'output', status: 'uploaded' });
      expect((await sut.list({ userId, teamId })).items.map((d) => d.id)).toEqual([out.id]);
      expect((await sut.list({ userId })).items).toEqual([]);
      // The same key registered as the user's own (a confused caller) is refused, not handed over.
      await expect(
        sut.registerOutput({ ...base, teamId: undefined, key: `teams/${teamId}/jobs/${jobId}/outputs/x.md` }),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    });

    it("refuses a team id that is there but empty rather than acting on the user's own documents", async () => {
      const own = await sut.create({ userId, name: 'mine.txt', contentType: 'text/plain', size: 1 });
      await expect(sut.get({ userId, teamId: '', docId: own.id })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        details: [{ field: 'teamId' }],
      });
    });

    it('refuses to create or register anything for a team recorded as deleted, and removes the late output', async () => {
      await documents.eraseTeam(teamId, 'event-1');
      await expect(upload()).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'team not found' });
      const key = `teams/${teamId}/jobs/${jobId}/outputs/late.md`;
      storage.objects.set(key, 3);
      await expect(
        sut.registerOutput({
          userId,
          teamId,
          jobId,
          sourceDocIds: [],
          key,
          name: 'late.md',
          contentType: 'text/markdown',
          size: 3,
        }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'team not found' });
      expect(storage.objects.has(key)).toBe(false);
      expect(documents.rows.size).toBe(0);
      // The user's own documents are not affected.
      await expect(
        sut.create({ userId, name: 'mine.txt', contentType: 'text/plain', size: 1 }),
      ).resolves.toMatchObject({ userId });
    });
  });
});
