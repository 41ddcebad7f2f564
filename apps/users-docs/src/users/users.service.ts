import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  PAGE_LIMIT_DEFAULT,
  type CreateUserRequest,
  type ListUsersRequest,
  type User,
  type UserPage,
} from '@docflow/contracts';
import { isUniqueViolation } from '@docflow/database';
import { ObjectStorage } from '@docflow/storage';
import { Clock } from '../common/clock';
import { decodeCursor, encodeCursor } from '../common/cursor';
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
  constructor(
    private readonly users: UsersRepository,
    @Inject(ObjectStorage) private readonly storage: ObjectStorage,
    private readonly clock: Clock,
  ) {}

  async create(request: CreateUserRequest): Promise<User> {
    const now = this.clock.now();
    const entity = Object.assign(new UserEntity(), {
      id: randomUUID(),
      name: request.name.trim(),
      email: request.email.trim().toLowerCase(),
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

  async list(request: ListUsersRequest): Promise<UserPage> {
    const limit = request.limit ?? PAGE_LIMIT_DEFAULT;
    const after = request.cursor ? decodeCursor(request.cursor) : undefined;
    const rows = await this.users.list(limit + 1, after);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toUser),
      ...(rows.length > limit && last ? { nextCursor: encodeCursor(last) } : {}),
    };
  }

  async get(userId: string): Promise<User> {
    const entity = await this.users.findById(userId);
    if (!entity) throw DomainError.notFound('user');
    return toUser(entity);
  }

  /**
   * Deletes the user's objects first, then the user and their documents. When storage fails nothing in
   * the database has changed and the caller can retry; when the database fails after storage, a retry
   * finishes the job (deleting an absent object succeeds). An upload landing afterwards is removed as an
   * orphan when its storage event arrives.
   */
  async delete(userId: string): Promise<void> {
    if (!(await this.users.exists(userId))) throw DomainError.notFound('user');
    try {
      await this.storage.deletePrefix(userObjectsPrefix(userId));
    } catch (error) {
      throw new DomainError(
        ErrorCode.STORAGE_UNAVAILABLE,
        'Object storage is unavailable; nothing was deleted',
        {
          cause: (error as Error).message,
        },
      );
    }
    await this.users.deleteById(userId);
  }
}
