// The client IP that identity's per-IP rate limits count (login, signup): with TRUST_PROXY the gateway reads it
// from X-Forwarded-For, trusting only the hops it is told to, so a client cannot pick its own address.
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConfigError } from '@docflow/config';
import { IdentitySubjects } from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { createLogger } from '@docflow/observability';
import { loadGatewayConfig } from '../config';
import { createGatewayApps, type GatewayApps } from '../gateway.app';
import { HeaderAuthenticator } from '../testing/test-authenticator';

/** Records what the gateway sends to identity; answers like a refused login. */
class RecordingServices extends ServiceClient {
  readonly sent: { subject: string; payload: Record<string, unknown> }[] = [];
  send<T>(subject: string, payload: unknown): Promise<T> {
    this.sent.push({ subject, payload: payload as Record<string, unknown> });
    return Promise.resolve({} as T);
  }
  isConnected(): boolean {
    return true;
  }
}

const load = (trustProxy?: string) =>
  loadGatewayConfig({
    STORAGE_WEBHOOK_TOKEN: 'a-webhook-token-for-tests',
    LOG_LEVEL: 'silent',
    ...(trustProxy === undefined ? {} : { TRUST_PROXY: trustProxy }),
  });

describe('TRUST_PROXY', () => {
  let apps: GatewayApps | undefined;
  afterEach(async () => {
    await apps?.close();
    apps = undefined;
  });

  /** The IP that a login from `remoteAddress` with `forwardedFor` reaches identity with. */
  async function loginIp(trustProxy: string | undefined, remoteAddress: string, forwardedFor: string) {
    const services = new RecordingServices();
    apps = await createGatewayApps(
      load(trustProxy),
      services,
      createLogger({ service: 'gateway', level: 'silent' }),
      {
        authenticator: new HeaderAuthenticator(),
      },
    );
    const app: NestFastifyApplication = apps.publicApp;
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    const response = await app
      .getHttpAdapter()
      .getInstance()
      .inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress,
        headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
        payload: JSON.stringify({ email: 'someone@example.com', password: 'a-password-of-some-length' }),
      });
    expect(response.statusCode).toBe(200);
    const login = services.sent.find((s) => s.subject === IdentitySubjects.login);
    return login?.payload.ip;
  }

  // The client sent "X-Forwarded-For: 6.6.6.6"; the ingress controller (10.0.0.5) appended the real address.
  const SPOOFED = '6.6.6.6, 203.0.113.7';

  it('with 1 hop, takes the entry the ingress controller added, not the one the client wrote', async () => {
    expect(await loginIp('1', '10.0.0.5', SPOOFED)).toBe('203.0.113.7');
  });

  it('with the proxies listed, trusts only them', async () => {
    expect(await loginIp('10.0.0.0/8', '10.0.0.5', SPOOFED)).toBe('203.0.113.7');
    // A request that does not come through a listed proxy: its header is not believed.
    expect(await loginIp('10.0.0.0/8, fd00::/8', '198.51.100.9', SPOOFED)).toBe('198.51.100.9');
  });

  it('with false (the default), ignores X-Forwarded-For', async () => {
    expect(await loginIp('false', '10.0.0.5', SPOOFED)).toBe('10.0.0.5');
    expect(await loginIp(undefined, '10.0.0.5', SPOOFED)).toBe('10.0.0.5');
  });

  it('refuses true and what is not a hop count or addresses, saying what to set', () => {
    expect(load('0').TRUST_PROXY).toBe(false);
    expect(load('2').TRUST_PROXY).toBe(2);
    expect(load(' 10.0.0.1 , 10.1.0.0/16 ').TRUST_PROXY).toEqual(['10.0.0.1', '10.1.0.0/16']);
    expect(() => load('true')).toThrow(ConfigError);
    expect(() => load('true')).toThrow(
      /TRUST_PROXY: true would trust every X-Forwarded-For hop.*hop|number of proxies/,
    );
    expect(() => load('10.0.0.0/33')).toThrow(
      /TRUST_PROXY: "10.0.0.0\/33" is not an IP address or CIDR range/,
    );
    expect(() => load('ingress')).toThrow(/TRUST_PROXY: "ingress" is not an IP address or CIDR range/);
  });
});
