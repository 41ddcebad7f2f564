import { Injectable } from '@nestjs/common';
import {
  UsersDocsSubjects,
  type ReclaimUserReply,
  type ReclaimUserRequest,
  type User,
} from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';

/** The user records in users-docs, which hold a user's documents under the same id as the account. */
@Injectable()
export class UsersDirectory {
  constructor(private readonly services: ServiceClient) {}

  /** Idempotent on the id: a retry returns the record made before. */
  create(user: { id: string; name: string; email: string }): Promise<User> {
    return this.services.send<User>(UsersDocsSubjects.userCreate, user);
  }

  /** Removes the record an unfinished signup left for `email` if older than `createdBefore` and empty. */
  async reclaim(email: string, createdBefore: Date): Promise<boolean> {
    const reply = await this.services.send<ReclaimUserReply>(UsersDocsSubjects.userReclaim, {
      email,
      createdBefore: createdBefore.toISOString(),
    } satisfies ReclaimUserRequest);
    return reply.reclaimed;
  }

  /** Removes the user, their documents and objects (users-docs answers NOT_FOUND when there is none). */
  async delete(userId: string): Promise<void> {
    await this.services.send(UsersDocsSubjects.userDelete, { userId }, { timeoutMs: 30_000 });
  }
}
