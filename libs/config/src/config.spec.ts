import { z } from 'zod';
import { ConfigError, bool, loadConfig, port, redactConfig, secret } from './config';

describe(loadConfig.name, () => {
  const schema = z.object({
    PORT: port(8080),
    TOKEN: secret(z.string().min(16)),
    DEBUG: bool(false),
  });

  it('applies defaults and coerces types', () => {
    const sut = loadConfig('svc', schema, { TOKEN: 'x'.repeat(16) });
    expect(sut).toEqual({ PORT: 8080, TOKEN: 'x'.repeat(16), DEBUG: false });
  });

  it('reports every invalid variable by name', () => {
    let error: unknown;
    try {
      loadConfig('svc', schema, { PORT: 'abc', DEBUG: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('PORT');
    expect(message).toContain('TOKEN');
    expect(message).toContain('DEBUG');
    expect((error as ConfigError).issues).toHaveLength(3);
  });

  it('redacts secrets and keeps the rest', () => {
    const config = loadConfig('svc', schema, { TOKEN: 's3cr3t-s3cr3t-s3cr3t' });
    const sut = redactConfig(schema, config);
    expect(sut).toEqual({ PORT: 8080, TOKEN: '[redacted]', DEBUG: false });
    expect(JSON.stringify(sut)).not.toContain('s3cr3t');
  });

  it('hides passwords inside URLs', () => {
    const urls = z.object({ DATABASE_URL: z.string(), NATS_URL: z.string() });
    const sut = redactConfig(urls, {
      DATABASE_URL: 'postgres://app:hunter2@db:5432/docflow',
      NATS_URL: 'nats://u:p4ss@n1:4222,nats://n2:4222',
    });
    expect(sut).toEqual({
      DATABASE_URL: 'postgres://app:[redacted]@db:5432/docflow',
      NATS_URL: 'nats://u:[redacted]@n1:4222,nats://n2:4222',
    });
  });

  it('redacts secrets wrapped in optional or default', () => {
    const wrapped = z.object({ KEY: secret(z.string()).optional() });
    expect(redactConfig(wrapped, { KEY: 'abc' })).toEqual({ KEY: '[redacted]' });
  });
});
