import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  IdentityEventSubjects,
  type AccountUser,
  type AuthResult,
  type ClientInfo,
  type CreateAccountRequest,
  type DeleteUserRequest,
  type LoginRequest,
  type SignupRequest,
  type UserDeletedEvent,
  type UserRegisteredEvent,
} from '@docflow/contracts';
import { isUniqueViolation } from '@docflow/database';
import { AuditLog } from '../audit/audit-log';
import { Clock } from '../common/clock';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { OutboxRelay } from '../outbox/outbox.relay';
import { RateLimits } from '../rate-limit/rate-limits';
import { SessionsService } from '../sessions/sessions.service';
import { TeamsService } from '../teams/teams.service';
import { AccountEntity } from './account.entity';
import { toAccountUser } from './account.mapper';
import { AccountsRepository } from './accounts.repository';
import { PasswordHasher } from './password-hasher';
import { UsersDirectory } from './users-directory';

/** The one answer to a failed login, whether the address exists or not. */
const badCredentials = () => new DomainError(ErrorCode.UNAUTHENTICATED, 'Invalid email or password');

const emailTaken = () =>
  new DomainError(ErrorCode.CONFLICT, 'email: a user with this email already exists', [
    { field: 'email', message: 'is already registered' },
  ]);

interface NewAccount {
  name: string;
  email: string;
  password?: string;
  birth?: string;
  isAdmin?: boolean;
}

@Injectable()
export class AccountsService {
  private readonly logger = new Logger(AccountsService.name);

  constructor(
    private readonly accounts: AccountsRepository,
    private readonly hasher: PasswordHasher,
    private readonly directory: UsersDirectory,
    private readonly sessions: SessionsService,
    private readonly teams: TeamsService,
    private readonly outbox: OutboxRelay,
    private readonly audit: AuditLog,
    private readonly limits: RateLimits,
    private readonly clock: Clock,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  async signup(request: SignupRequest): Promise<AuthResult> {
    const client: ClientInfo = { ip: request.ip, userAgent: request.userAgent };
    await this.limits.consume('signupIp', request.ip);
    await this.limits.consume('signupAccount', RateLimits.accountKey(request.email));
    let result: AuthResult | undefined;
    await this.provision(
      { name: request.name, email: request.email, password: request.password, birth: request.birth },
      async (manager, user) => {
        await this.audit.recordIn(manager, { userId: user.id, type: 'signup', ...client });
        result = await this.sessions.start(user, manager);
      },
    );
    return result!;
  }

  async createByAdmin(request: CreateAccountRequest): Promise<AccountUser> {
    return this.provision(request, async (manager, user) => {
      await this.audit.recordIn(manager, {
        userId: user.id,
        type: 'admin.user.created',
        actorId: request.actorId,
        ip: request.ip,
        userAgent: request.userAgent,
      });
    });
  }

  /**
   * Creates an account: in one transaction holding the address's lock, the users-docs record (under the id given
   * here), then the account, the `identity.user.registered` event in the outbox and whatever `inTransaction`
   * adds. Should the transaction fail, the users-docs record is removed again. The event leaves only once both
   * exist.
   */
  private async provision(
    input: NewAccount,
    inTransaction: (manager: import('typeorm').EntityManager, user: AccountUser) => Promise<void>,
  ): Promise<AccountUser> {
    const email = input.email.trim().toLowerCase();
    if (await this.accounts.findByEmail(email)) throw emailTaken();
    const passwordHash = input.password ? await this.hasher.hash(input.password) : null;
    const now = this.clock.now();
    const account = Object.assign(new AccountEntity(), {
      id: randomUUID(),
      name: input.name.trim(),
      email,
      birth: input.birth ?? null,
      passwordHash,
      isAdmin: input.isAdmin ?? false,
      createdAt: now,
      updatedAt: now,
    });
    const user = toAccountUser(account);
    let recorded = false;
    try {
      await this.accounts.transaction(async (manager) => {
        // One provisioning of an address at a time, across replicas, until this commits or rolls back (a crash
        // ends the connection and with it the lock): under it, a users-docs record of the address without an
        // account is certainly what an unfinished signup left, never one in progress.
        await this.accounts.lockEmail(manager, email);
        if (await this.accounts.findByEmail(email, manager)) throw emailTaken();
        await this.createDirectoryRecord({ id: account.id, name: account.name, email });
        recorded = true;
        await this.accounts.insert(account, manager);
        const event: UserRegisteredEvent = {
          eventId: randomUUID(),
          userId: account.id,
          email,
          name: account.name,
          registeredAt: now.toISOString(),
        };
        await this.outbox.add(manager, IdentityEventSubjects.userRegistered, event);
        await inTransaction(manager, user);
      });
    } catch (error) {
      if (recorded)
        await this.directory.delete(account.id).catch((cleanup: unknown) =>
          this.logger.error({
            msg: 'account not created, and its users-docs record could not be removed',
            userId: account.id,
            error: (cleanup as Error).message,
          }),
        );
      if (isUniqueViolation(error)) throw emailTaken();
      throw error;
    }
    this.outbox.nudge();
    return user;
  }

  /**
   * The users-docs record of a new account. Should the address already have one although no account has it (a
   * signup that crashed between its two steps), that record is removed when it is old and empty and the creation
   * is tried once more; otherwise the address is taken (a signup of it in progress).
   */
  private async createDirectoryRecord(record: { id: string; name: string; email: string }): Promise<void> {
    try {
      await this.directory.create(record);
      return;
    } catch (error) {
      if (!(error instanceof DomainError && error.code === ErrorCode.CONFLICT)) throw error;
    }
    const createdBefore = new Date(this.clock.now().getTime() - this.config.SIGNUP_ORPHAN_AFTER_MS);
    if (!(await this.directory.reclaim(record.email, createdBefore))) throw emailTaken();
    this.logger.warn({ msg: 'the record of an unfinished signup was removed', userId: record.id });
    await this.directory.create(record);
  }

  async login(request: LoginRequest): Promise<AuthResult> {
    const client: ClientInfo = { ip: request.ip, userAgent: request.userAgent };
    const accountKey = RateLimits.accountKey(request.email);
    const account = await this.accounts.findByEmail(request.email);
    try {
      await this.limits.consume('loginIp', request.ip);
      await this.limits.check('loginAccount', accountKey);
    } catch (error) {
      if (account) await this.audit.record({ userId: account.id, type: 'login.rate_limited', ...client });
      throw error;
    }
    const ok = await this.hasher.verify(account?.passwordHash, request.password);
    if (!account || !ok) {
      await this.limits.consume('loginAccount', accountKey).catch(() => undefined);
      await this.audit.record({ userId: account?.id ?? null, type: 'login.failed', ...client });
      throw badCredentials();
    }
    await this.limits.reset('loginAccount', accountKey);
    if (this.hasher.needsRehash(account.passwordHash!)) {
      await this.accounts.setPasswordHash(
        account.id,
        await this.hasher.hash(request.password),
        this.clock.now(),
      );
    }
    const result = await this.sessions.start(toAccountUser(account));
    await this.audit.record({ userId: account.id, type: 'login.succeeded', ...client });
    return result;
  }

  async get(userId: string): Promise<AccountUser> {
    const account = await this.accounts.findById(userId);
    if (!account) throw DomainError.notFound('user');
    return toAccountUser(account);
  }

  /**
   * Deletes an account: the user's data in users-docs (documents, objects) first, then in one transaction the
   * account with all it holds (sessions, tokens, memberships), the teams nobody else is in, and the events
   * (`identity.user.deleted`, `identity.team.deleted`) on which the other services drop what they keep (keys,
   * details, jobs). Users who alone own a team with other members are refused before anything is deleted.
   */
  async delete(request: DeleteUserRequest): Promise<void> {
    const { userId } = request;
    const self = request.actorId === userId;
    const account = await this.accounts.findById(userId);
    if (account && self) await this.teams.assertNotOnlyOwner(userId);
    try {
      await this.directory.delete(userId);
    } catch (error) {
      if (!(error instanceof DomainError && error.code === ErrorCode.NOT_FOUND && account)) throw error;
    }
    if (!account) return;
    await this.accounts.transaction(async (manager) => {
      if (!(await this.accounts.lockForDeletion(manager, userId))) return;
      // Checked again under the teams' locks: an owner may have left meanwhile (then the next member takes over).
      await this.teams.releaseTeamsOf(manager, userId, false);
      if (!(await this.accounts.deleteById(userId, manager))) return;
      const event: UserDeletedEvent = {
        eventId: randomUUID(),
        userId,
        deletedAt: this.clock.now().toISOString(),
      };
      await this.outbox.add(manager, IdentityEventSubjects.userDeleted, event);
    });
    this.outbox.nudge();
  }

  /**
   * Makes the configured first admin: creates the account, or promotes an existing one whose password is
   * the configured one (an account someone else registered under that address is left alone).
   */
  async bootstrapAdmin(
    email: string,
    password: string,
    name: string,
  ): Promise<'created' | 'promoted' | 'unchanged' | 'refused'> {
    const existing = await this.accounts.findByEmail(email);
    if (!existing) {
      await this.provision({ name, email, password, isAdmin: true }, async (manager, user) => {
        await this.audit.recordIn(manager, {
          userId: user.id,
          type: 'admin.granted',
          details: { via: 'bootstrap' },
        });
      });
      return 'created';
    }
    if (existing.isAdmin) return 'unchanged';
    if (!(await this.hasher.verify(existing.passwordHash, password))) return 'refused';
    await this.accounts.setAdmin(existing.id, true, this.clock.now());
    await this.audit.record({ userId: existing.id, type: 'admin.granted', details: { via: 'bootstrap' } });
    return 'promoted';
  }
}
