// Operator commands, run where the identity service's configuration is (a cluster: `kubectl exec` into an identity
// pod, or a one-off Job):
//
//   node apps/identity/dist/admin.js grant-admin <email>      make an existing account a platform admin
//   node apps/identity/dist/admin.js revoke-admin <email>     take it back
//   node apps/identity/dist/admin.js generate-signing-key [EdDSA|ES256]
//                                                             print a new private JWK for JWT_SIGNING_KEYS
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { ConfigError } from '@docflow/config';
import { createServiceDataSource } from '@docflow/database';
import { loadIdentityConfig } from './config';
import { identityDataSourceOptions } from './data-source.options';
import { AccountEntity } from './accounts/account.entity';
import { AuditEventEntity } from './audit/audit-event.entity';
import { generateSigningJwk, SIGNING_ALGORITHMS, type SigningAlgorithm } from './keys/signing-keys';

const USAGE =
  'usage: admin.js grant-admin <email> | revoke-admin <email> | generate-signing-key [EdDSA|ES256]';

async function setAdmin(email: string | undefined, isAdmin: boolean): Promise<void> {
  if (!email) throw new Error(USAGE);
  const config = loadIdentityConfig();
  const dataSource = await createServiceDataSource(
    identityDataSourceOptions({ ...config, DB_POOL_SIZE: 1 }),
  ).initialize();
  try {
    await dataSource.transaction(async (manager) => {
      const account = await manager
        .getRepository(AccountEntity)
        .findOneBy({ email: email.trim().toLowerCase() });
      if (!account) throw new Error(`no account with the email ${email}`);
      await manager
        .getRepository(AccountEntity)
        .update({ id: account.id }, { isAdmin, updatedAt: new Date() });
      await manager.getRepository(AuditEventEntity).insert({
        id: randomUUID(),
        userId: account.id,
        type: 'admin.granted',
        actorId: null,
        targetId: null,
        ip: null,
        userAgent: null,
        details: { via: 'admin.js', granted: isAdmin },
        createdAt: new Date(),
      });
      console.log(`${account.email} (${account.id}) is ${isAdmin ? 'now' : 'no longer'} a platform admin`);
    });
  } finally {
    await dataSource.destroy();
  }
}

async function main(): Promise<void> {
  const [command, argument] = process.argv.slice(2);
  switch (command) {
    case 'grant-admin':
      return setAdmin(argument, true);
    case 'revoke-admin':
      return setAdmin(argument, false);
    case 'generate-signing-key': {
      const alg = (argument ?? 'EdDSA') as SigningAlgorithm;
      if (!SIGNING_ALGORITHMS.includes(alg)) throw new Error(USAGE);
      console.log(JSON.stringify(await generateSigningJwk(alg)));
      return;
    }
    default:
      throw new Error(USAGE);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : (error as Error).message);
  process.exit(1);
});
