// In-memory collaborators for unit tests of users-docs services.
import type { DocumentStatus } from '@docflow/contracts';
import type { ObjectStorage } from '@docflow/storage';
import { Clock } from '../common/clock';
import type { DocumentEntity } from '../documents/document.entity';
import type { DocumentPatch, DocumentScope, DocumentsRepository } from '../documents/documents.repository';
import type { UsersRepository } from '../users/users.repository';

export class FixedClock extends Clock {
  constructor(private current = new Date('2026-11-23T10:00:00.000Z')) {
    super();
  }
  override now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** Is the row in the scope: the team's, or the user's own (never a team's)? As the real repository's WHERE. */
function inScope(row: DocumentEntity, scope: DocumentScope): boolean {
  return scope.teamId ? row.teamId === scope.teamId : row.userId === scope.userId && !row.teamId;
}

export class FakeDocumentsRepository implements Pick<DocumentsRepository, keyof DocumentsRepository> {
  readonly rows = new Map<string, DocumentEntity>();
  /** Teams recorded as deleted, with the event id. */
  readonly deletedTeams = new Map<string, string>();

  async insert(document: DocumentEntity): Promise<boolean> {
    if (document.teamId && this.deletedTeams.has(document.teamId)) return false;
    this.rows.set(document.id, { ...document });
    return true;
  }
  async findVisible(scope: DocumentScope, id: string): Promise<DocumentEntity | null> {
    const row = this.rows.get(id);
    return row && inScope(row, scope) && row.status !== 'deleted' ? { ...row } : null;
  }
  async findVisibleMany(scope: DocumentScope, ids: string[]): Promise<DocumentEntity[]> {
    return [...this.rows.values()].filter(
      (r) => inScope(r, scope) && ids.includes(r.id) && r.status !== 'deleted',
    );
  }
  async findByObjectKey(objectKey: string): Promise<DocumentEntity | null> {
    const row = [...this.rows.values()].find((r) => r.objectKey === objectKey);
    return row ? { ...row } : null;
  }
  async listVisible(scope: DocumentScope, limit: number): Promise<DocumentEntity[]> {
    return [...this.rows.values()].filter((r) => inScope(r, scope) && r.status !== 'deleted').slice(0, limit);
  }
  async transition(id: string, from: DocumentStatus[], patch: DocumentPatch): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || !from.includes(row.status)) return false;
    Object.assign(row, patch);
    return true;
  }
  async eraseTeam(teamId: string, eventId: string): Promise<string[]> {
    if (!this.deletedTeams.has(teamId)) this.deletedTeams.set(teamId, eventId);
    const gone = [...this.rows.values()].filter((r) => r.teamId === teamId).map((r) => r.id);
    for (const id of gone) this.rows.delete(id);
    return gone;
  }
}

export class FakeUsersRepository implements Pick<UsersRepository, 'exists'> {
  constructor(readonly ids = new Set<string>()) {}
  async exists(id: string): Promise<boolean> {
    return this.ids.has(id);
  }
}

export class FakeStorage implements Pick<
  ObjectStorage,
  'bucket' | 'presignPut' | 'presignGet' | 'head' | 'delete' | 'deletePrefix'
> {
  readonly bucket = 'docflow';
  readonly objects = new Map<string, number>();
  readonly deleted: string[] = [];
  failing = false;

  async presignPut(input: {
    key: string;
    contentType: string;
    contentLength?: number;
    expiresInSeconds: number;
  }) {
    return {
      url: `https://s3.test/${this.bucket}/${input.key}?X-Amz-Expires=${input.expiresInSeconds}`,
      headers: { 'Content-Type': input.contentType },
      expiresAt: new Date(Date.now() + input.expiresInSeconds * 1000),
    };
  }
  async presignGet(input: { key: string; expiresInSeconds: number }) {
    return {
      url: `https://s3.test/${this.bucket}/${input.key}?get`,
      expiresAt: new Date(Date.now() + input.expiresInSeconds * 1000),
    };
  }
  async head(key: string) {
    const size = this.objects.get(key);
    return size === undefined ? undefined : { size };
  }
  async delete(key: string): Promise<void> {
    if (this.failing) throw new Error('connect ECONNREFUSED');
    this.objects.delete(key);
    this.deleted.push(key);
  }
  async deletePrefix(prefix: string): Promise<number> {
    if (this.failing) throw new Error('connect ECONNREFUSED');
    let n = 0;
    for (const key of [...this.objects.keys()]) {
      if (key.startsWith(prefix)) {
        this.objects.delete(key);
        n++;
      }
    }
    return n;
  }
}

export function asStorage(fake: FakeStorage): ObjectStorage {
  return fake as unknown as ObjectStorage;
}
