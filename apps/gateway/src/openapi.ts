// Writes the OpenAPI descriptions of the public and the private API, generated from the controllers:
// `npm run openapi` → docs/openapi.json and docs/openapi.private.json. A test fails when they drift.
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { createLogger } from '@docflow/observability';
import { loadGatewayConfig } from './config';
import { createGatewayApps } from './gateway.app';
import { describeGuardedOperations } from './auth/guard-responses';
import { ServiceClient } from '@docflow/messaging';

class OfflineServiceClient extends ServiceClient {
  async send<T>(): Promise<T> {
    throw new Error('not connected: the OpenAPI generator never calls a service');
  }
  isConnected(): boolean {
    return false;
  }
}

const VERSION = '0.1.0';

export async function buildOpenApiDocuments(): Promise<{ public: OpenAPIObject; private: OpenAPIObject }> {
  const config = loadGatewayConfig({ STORAGE_WEBHOOK_TOKEN: 'openapi-generator-token' });
  const apps = await createGatewayApps(
    config,
    new OfflineServiceClient(),
    createLogger({ service: 'openapi', level: 'silent' }),
  );
  try {
    const publicDoc = SwaggerModule.createDocument(
      apps.publicApp,
      new DocumentBuilder()
        .setTitle('docflow public API')
        .setDescription(
          'Users and their documents, jobs, provider keys and user details. Documents are uploaded and ' +
            'downloaded straight to and from object storage with presigned URLs. Provider keys are stored ' +
            'encrypted and never returned. Every error is `{ "error": { "code", "message", "details"?, "requestId" } }`. ' +
            'Every route but signup, login, refresh, the JWKS and health needs `Authorization: Bearer <token>`: an ' +
            'access token from `/auth/signup`, `/auth/login` or `/auth/refresh`, or a personal access token (`dfp_...`) ' +
            'holding the scope the route names (see docs/authorization.md).',
        )
        .setVersion(VERSION)
        .addServer('http://127.0.0.1:8080')
        .addBearerAuth({
          type: 'http',
          scheme: 'bearer',
          description: 'An access token (JWT) or a personal access token (dfp_...)',
        })
        .build(),
    );
    describeGuardedOperations(apps.publicApp, publicDoc);
    const privateDoc = SwaggerModule.createDocument(
      apps.privateApp,
      new DocumentBuilder()
        .setTitle('docflow private API')
        .setDescription('Callbacks from inside the cluster (object storage events). Never routed publicly.')
        .setVersion(VERSION)
        .addServer('http://127.0.0.1:8081')
        .addBearerAuth()
        .build(),
    );
    return { public: publicDoc, private: privateDoc };
  } finally {
    await apps.close();
  }
}

export function serialize(document: OpenAPIObject): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

if (require.main === module) {
  void buildOpenApiDocuments().then((docs) => {
    const root = resolve(__dirname, '../../..');
    writeFileSync(resolve(root, 'docs/openapi.json'), serialize(docs.public));
    writeFileSync(resolve(root, 'docs/openapi.private.json'), serialize(docs.private));
    console.log('wrote docs/openapi.json and docs/openapi.private.json');
  });
}
