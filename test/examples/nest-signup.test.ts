/** examples/nest-signup.ts as its reader runs it: a 201 from the phone's country, the 403 and 400 otherwise. */
import request from 'supertest';
import { afterAll, expect, test } from 'vitest';
import { createApp } from '../../examples/nest-signup.js';

const app = await createApp({ logger: { warn() {}, error() {} } });
afterAll(() => app.close());

const signup = (ip: string, phone: string) =>
  request(app.getHttpServer()).post('/signup').set('X-Forwarded-For', ip).send({ phone });

test('a GB phone from a GB IP is created, from a KR IP refused with the 403 body, and a non-number is a 400', async () => {
  const ok = await signup('81.2.69.160', '+447400123456');
  expect(ok.status).toBe(201);
  expect(ok.body.ipMatch).toMatchObject({ matchLevel: 'country', action: 'allow' });
  const refused = await signup('211.234.0.1', '+447400123456');
  expect(refused.status).toBe(403);
  expect(refused.body).toMatchObject({ error: 'ip_phone_mismatch', matchLevel: 'mismatch' });
  expect((await signup('81.2.69.160', 'call me')).body).toMatchObject({ error: 'invalid_phone' });
});
