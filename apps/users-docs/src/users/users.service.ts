import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  PAGE_LIMIT_DEFAULT,
  type CreateUserRequest,
  type ListUsersRequest,
  type User,
  type UserPage,
  type ReclaimUserReply,
  type ReclaimUserRequest,
} from '@docflow/contracts';
import { decodeCursor, isUniqueViolation, toPage } from '@docflow/database';
import { ObjectStorage } from '@docflow/storage';
import { Clock } from '../common/clock';
import { UserEntity } from './user.entity';
import { UsersRepository } from './users.repository';
import { userObjectsPrefix } from '../documents/object-keys';

export function toUser(entity: UserEntity): User {
  return {
    id: entity.id,
    name: entity.name,
    email: entity.email,
    createdAt: entity.createdAt.toISOString(),
    updatedAt: entity.updatedAt.toISOString(),
  };
}

@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    private readonly users: UsersRepository,
    @Inject(ObjectStorage) private readonly storage: ObjectStorage,
    private readonly clock: Clock,
  ) {}

  async create(request: CreateUserRequest): Promise<User> {
    const now = this.clock.now();
    const email = request.email.trim().toLowerCase();
    if (request.id) {
      const existing = await this.users.findById(request.id);
      if (existing && existing.email === email) return toUser(existing);
      if (existing) throw new DomainError(ErrorCode.CONFLICT, 'id: a user with this id already exists');
    }
    const entity = Object.assign(new UserEntity(), {
      id: request.id ?? randomUUID(),
      name: request.name.trim(),
      email,
      createdAt: now,
      updatedAt: now,
    });
    try {
      await this.users.insert(entity);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new DomainError(ErrorCode.CONFLICT, 'email: a user with this email already exists', [
          { field: 'email', message: 'is already registered' },
        ]);
      }
      throw error;
    }
    return toUser(entity);
  }

  /** See `users-docs.user.reclaim`: a crashed signup's record, old and empty, goes; anything else stays. */
  async reclaim(request: ReclaimUserRequest): Promise<ReclaimUserReply> {
    const email = typeof request?.email === 'string' ? request.email.trim().toLowerCase() : '';
    if (!email) throw DomainError.validation('email', 'is required');
    const createdBefore = new Date(typeof request.createdBefore === 'string' ? request.createdBefore : NaN);
    if (Number.isNaN(createdBefore.getTime()))
      throw DomainError.validation('createdBefore', 'must be an ISO 8601 time');
    const id = await this.users.deleteUnusedByEmail(email, createdBefore);
    if (id) this.logger.warn({ msg: 'reclaimed the record of an unfinished signup', userId: id });
    return { reclaimed: !!id };
  }

  async list(request: ListUsersRequest): Promise<UserPage> {
    const limit = request.limit ?? PAGE_LIMIT_DEFAULT;
    const after = request.cursor ? decodeCursor(request.cursor) : undefined;
    const rows = await this.users.list(limit + 1, after);
    return toPage(rows, limit, toUser);
  }

  async get(userId: string): Promise<User> {
    const entity = await this.users.findById(userId);
    if (!entity) throw DomainError.notFound('user');
    return toUser(entity);
  }

  /**
   * Removes the user's objects (`users/{id}/`), then the user and their own documents (ON DELETE CASCADE), then
   * the objects once more (the team documents the user created stay, with their objects under `teams/`): an upload whose event was applied between the two steps would otherwise stay behind, and
   * any later upload finds no document and is removed as an orphan. When storage fails before the rows
   * are deleted nothing has changed and the call can be retried.
   */
  async delete(userId: string): Promise<void> {
    if (!(await this.users.exists(userId))) throw DomainError.notFound('user');
    const prefix = userObjectsPrefix(userId);
    try {
      await this.storage.deletePrefix(prefix);
    } catch (error) {
      this.logger.warn({ msg: 'could not remove user objects', userId, error: (error as Error).message });
      throw new DomainError(
        ErrorCode.STORAGE_UNAVAILABLE,
        'Object storage is unavailable; nothing was deleted',
      );
    }
    await this.users.deleteById(userId);
    try {
      await this.storage.deletePrefix(prefix);
    } catch (error) {
      this.logger.error({
        msg: 'user deleted, but objects may remain under their prefix',
        prefix,
        error: (error as Error).message,
      });
    }
  }
}
