import { describe, expect, test, vi } from 'vitest';
import { POST } from '../../examples/next-route-handler.js';

const GB_PHONE = '+447400123456';

/** What Vercel hands the route: the client's JSON body, and x-real-ip set by the platform. */
const signup = (ip: string, body: unknown) =>
  POST(
    new Request('https://shop.example/api/signup', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-real-ip': ip },
      body: JSON.stringify(body),
    }),
  );

describe('examples/next-route-handler.ts', () => {
  test('a GB phone from a GB IP is created, with the body still readable by the handler', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const res = await signup('81.2.69.160', { phone: '07400 123456', name: 'Ada' });
    expect(res.status).toBe(400); // national format, and the route sets no default country
    // The developer is told once how to accept national numbers, without the number.
    expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(/IPMATCH_NATIONAL_NUMBER/);
    expect(warn.mock.calls.join('\n')).not.toContain('7400 123456');
    warn.mockRestore();
    const ok = await signup('81.2.69.160', { phone: GB_PHONE, name: 'Ada' });
    expect(ok.status).toBe(201);
    expect(await ok.json()).toEqual({ created: true, name: 'Ada', phone: GB_PHONE, review: false });
  });

  test('from a KR IP it is refused with the 403 JSON', async () => {
    const res = await signup('211.234.0.1', { phone: GB_PHONE, name: 'Ada' });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toMatchObject({ error: 'ip_phone_mismatch', reason: 'country_mismatch' });
  });
});
