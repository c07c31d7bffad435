import { IpMatchConfigError } from 'ipmatch';
import { describe, expect, test, vi } from 'vitest';
import { clientIpProblems, compileClientIp } from '../../src/adapters/shared/client-ip.js';
import type { ProxyTrust, RequestIp } from '../../src/adapters/shared/client-ip-types.js';

interface FakeReq {
  peer: string;
  headers: Record<string, string>;
  frameworkIp?: string;
}

/** A framework with a given proxy trust whose own IP getter is a spy. */
function framework(trust: ProxyTrust) {
  const ip = vi.fn((req: FakeReq) => req.frameworkIp);
  const fw: RequestIp<FakeReq> = {
    raw: (req) => ({ headers: req.headers, socket: { remoteAddress: req.peer } }),
    framework: {
      ip,
      trust: () => trust,
      advice: { enableTrust: 'ENABLE-ADVICE', restrictTrust: 'RESTRICT-ADVICE' },
    },
  };
  return { fw, ip };
}

const req = (peer: string, headers: Record<string, string> = {}, frameworkIp?: string): FakeReq => ({
  peer,
  headers,
  frameworkIp,
});

describe("clientIp: 'framework'", () => {
  test('with proxy trust off it takes the socket address and never asks the framework', () => {
    const { fw, ip } = framework('off');
    const get = compileClientIp(undefined, undefined, fw, vi.fn());
    expect(get(req('::ffff:81.2.69.160', {}, 'framework-ip'))).toBe('::ffff:81.2.69.160');
    expect(ip).not.toHaveBeenCalled();
  });

  test('X-Forwarded-For while trust is off is ignored, with one warning', () => {
    const warn = vi.fn();
    const get = compileClientIp('framework', undefined, framework('off').fw, warn);
    expect(get(req('127.0.0.1', { 'x-forwarded-for': '81.2.69.160' }))).toBe('127.0.0.1');
    expect(get(req('127.0.0.1', { 'x-forwarded-for': '8.8.8.8' }))).toBe('127.0.0.1');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toBe('IPMATCH_XFF_UNTRUSTED');
    expect(warn.mock.calls[0]?.[1]).toContain('ENABLE-ADVICE');
  });

  test('with some proxies trusted it uses the framework IP, without warnings', () => {
    const warn = vi.fn();
    const get = compileClientIp('framework', undefined, framework('some').fw, warn);
    expect(get(req('127.0.0.1', { 'x-forwarded-for': '81.2.69.160' }, '81.2.69.160'))).toBe('81.2.69.160');
    expect(warn).not.toHaveBeenCalled();
  });

  test('trusting every hop warns once that the IP is forgeable', () => {
    const warn = vi.fn();
    const get = compileClientIp('framework', undefined, framework('all').fw, warn);
    expect(get(req('127.0.0.1', {}, '81.2.69.160'))).toBe('81.2.69.160');
    get(req('127.0.0.1', {}, '81.2.69.160'));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toBe('IPMATCH_TRUST_PROXY_ALL');
    expect(warn.mock.calls[0]?.[1]).toMatch(/forge|pick its own IP/);
    expect(warn.mock.calls[0]?.[1]).toContain('RESTRICT-ADVICE');
  });
});

describe("clientIp: 'request-ip'", () => {
  test('walks X-Forwarded-For from a trusted peer: the right-most entry that is not a proxy', () => {
    const get = compileClientIp('request-ip', ['10.0.0.0/8'], framework('off').fw, vi.fn());
    // The proxy appended 211.234.0.1; the client wrote 81.2.69.160 itself.
    expect(get(req('10.1.1.1', { 'x-forwarded-for': '81.2.69.160, 211.234.0.1' }))).toBe('211.234.0.1');
    expect(get(req('::ffff:10.1.1.1', { 'x-forwarded-for': '81.2.69.160, 211.234.0.1, 10.1.1.2' }))).toBe(
      '211.234.0.1',
    );
    expect(get(req('10.1.1.1'))).toBe('10.1.1.1');
  });

  test('X-Client-IP, X-Real-IP, CF-Connecting-IP, True-Client-IP and Forwarded play no part', () => {
    const get = compileClientIp('request-ip', ['10.0.0.0/8'], framework('off').fw, vi.fn());
    const forged = {
      'x-client-ip': '81.2.69.160',
      'x-real-ip': '81.2.69.160',
      'cf-connecting-ip': '81.2.69.160',
      'true-client-ip': '81.2.69.160',
      forwarded: 'for=81.2.69.160',
    };
    expect(get(req('10.1.1.1', forged))).toBe('10.1.1.1');
    expect(get(req('10.1.1.1', { ...forged, 'x-forwarded-for': '211.234.0.1' }))).toBe('211.234.0.1');
  });

  test('headers from any other peer are ignored, and X-Forwarded-For warns once', () => {
    const warn = vi.fn();
    const get = compileClientIp('request-ip', ['10.0.0.0/8'], framework('off').fw, warn);
    expect(get(req('203.0.113.9', { 'x-client-ip': '81.2.69.160' }))).toBe('203.0.113.9');
    expect(get(req('203.0.113.9', { 'x-forwarded-for': '81.2.69.160' }))).toBe('203.0.113.9');
    expect(get(req('203.0.113.9', { 'x-forwarded-for': '81.2.69.160' }))).toBe('203.0.113.9');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toBe('IPMATCH_XFF_UNTRUSTED');
  });

  test("naming 'x-forwarded-for' with trustedProxies is the same walk", () => {
    const get = compileClientIp('X-Forwarded-For', ['10.0.0.0/8'], framework('off').fw, vi.fn());
    expect(get(req('10.1.1.1', { 'x-forwarded-for': '81.2.69.160, 211.234.0.1, 10.1.1.2' }))).toBe(
      '211.234.0.1',
    );
  });

  test('the framework trust setting plays no part', () => {
    const { fw, ip } = framework('all');
    const get = compileClientIp('request-ip', ['loopback'], fw, vi.fn());
    expect(get(req('203.0.113.9', { 'x-forwarded-for': '81.2.69.160' }, '81.2.69.160'))).toBe('203.0.113.9');
    expect(ip).not.toHaveBeenCalled();
  });

  test('without trustedProxies it refuses to start, saying what to pass', () => {
    for (const proxies of [undefined, []]) {
      const build = () => compileClientIp('request-ip', proxies, framework('off').fw, vi.fn());
      expect(build).toThrow(IpMatchConfigError);
      expect(build).toThrow(/needs trustedProxies.*\['10\.0\.0\.0\/8'\]/);
    }
  });
});

describe('clientIp: a header name', () => {
  const codes = (warn: ReturnType<typeof vi.fn>) => warn.mock.calls.map(([code]) => code);

  test("is the header's right-most entry, whatever the framework's trust", () => {
    const { fw, ip } = framework('all');
    const get = compileClientIp('CF-Connecting-IP', undefined, fw, vi.fn());
    expect(get(req('203.0.113.9', { 'cf-connecting-ip': '81.2.69.160' }))).toBe('81.2.69.160');
    expect(get(req('203.0.113.9', { 'cf-connecting-ip': '8.8.8.8 , 81.2.69.160 ' }))).toBe('81.2.69.160');
    expect(get(req('203.0.113.9', { 'cf-connecting-ip': '' }))).toBeUndefined();
    expect(get(req('203.0.113.9', { 'cf-connecting-ip': 'unknown' }))).toBeUndefined();
    expect(get(req('203.0.113.9'))).toBeUndefined();
    expect(ip).not.toHaveBeenCalled();
  });

  test("'forwarded' reads the for= of the last element", () => {
    const get = compileClientIp('forwarded', undefined, framework('off').fw, vi.fn());
    const forwarded = 'for=81.2.69.160;proto=https, for="[2001:4860:4860::8888]:4711";by=10.0.0.1';
    expect(get(req('10.0.0.1', { forwarded }))).toBe('2001:4860:4860::8888');
    expect(get(req('10.0.0.1', { forwarded: 'for=_hidden' }))).toBeUndefined();
  });

  test('an absent header warns once that the check has no client IP, naming the platform and the fix', () => {
    const warn = vi.fn();
    const get = compileClientIp('cf-connecting-ip', undefined, framework('off').fw, warn);
    expect(get(req('127.0.0.1'))).toBeUndefined();
    get(req('127.0.0.1'));
    expect(codes(warn)).toEqual(['IPMATCH_CLIENT_IP_HEADER_MISSING']);
    expect(warn.mock.calls[0]?.[1]).toMatch(
      /Cloudflare sets.*ip_missing.*clientIp: 'framework'.*trustedProxies/,
    );
  });

  test.each([
    ['cf-connecting-ip', '127.0.0.1', true],
    ['cf-connecting-ip', '::ffff:192.168.1.9', true],
    ['cf-connecting-ip', '172.70.1.1', false], // a Cloudflare edge address
    ['true-client-ip', '10.0.0.1', true],
    ['x-real-ip', '127.0.0.1', false], // nginx on this host
    ['x-real-ip', '203.0.113.9', false], // documentation range: not public
    ['x-real-ip', '211.234.0.1', true], // a client straight from the Internet
    ['fly-client-ip', '172.16.0.3', false],
    ['x-my-ip', '8.8.8.8', true],
  ])('%s from %s without trustedProxies: forgeable, so a warning (%s)', (name, peer, warns) => {
    const warn = vi.fn();
    const get = compileClientIp(name, undefined, framework('off').fw, warn);
    expect(get(req(peer, { [name]: '81.2.69.160' }))).toBe('81.2.69.160');
    get(req(peer, { [name]: '81.2.69.160' }));
    expect(codes(warn)).toEqual(warns ? ['IPMATCH_CLIENT_IP_HEADER_UNTRUSTED_PEER'] : []);
    if (warns) expect(warn.mock.calls[0]?.[1]).toMatch(/anyone who reaches this server can write the header/);
  });

  test('no peer at all (Workers, a bare Request) is no reason to warn', () => {
    const warn = vi.fn();
    const headersOnly = { raw: (r: FakeReq) => ({ headers: r.headers }) };
    const get = compileClientIp('cf-connecting-ip', undefined, headersOnly, warn);
    expect(get(req('', { 'cf-connecting-ip': '81.2.69.160' }))).toBe('81.2.69.160');
    expect(warn).not.toHaveBeenCalled();
  });

  test('with trustedProxies, believed only from a trusted peer; from any other the peer is the client', () => {
    const warn = vi.fn();
    const get = compileClientIp('cf-connecting-ip', ['173.245.48.0/20'], framework('off').fw, warn);
    expect(get(req('173.245.48.7', { 'cf-connecting-ip': '81.2.69.160' }))).toBe('81.2.69.160');
    expect(get(req('211.234.0.1', { 'cf-connecting-ip': '81.2.69.160' }))).toBe('211.234.0.1');
    expect(get(req('211.234.0.1'))).toBe('211.234.0.1');
    expect(codes(warn)).toEqual(['IPMATCH_CLIENT_IP_HEADER_UNTRUSTED_PEER']);
    expect(warn.mock.calls[0]?.[1]).toMatch(/ignored/);
    // A trusted peer that sent no header: no client IP, and the other warning.
    expect(get(req('173.245.48.7'))).toBeUndefined();
    expect(codes(warn)).toEqual([
      'IPMATCH_CLIENT_IP_HEADER_UNTRUSTED_PEER',
      'IPMATCH_CLIENT_IP_HEADER_MISSING',
    ]);
  });

  test('with trustedProxies and no peer, nothing is believed', () => {
    const warn = vi.fn();
    const headersOnly = { raw: (r: FakeReq) => ({ headers: r.headers }), noPeerAdvice: 'ADVICE' };
    const get = compileClientIp('cf-connecting-ip', ['loopback'], headersOnly, warn);
    expect(get(req('', { 'cf-connecting-ip': '81.2.69.160' }))).toBeUndefined();
    expect(codes(warn)).toEqual(['IPMATCH_NO_PEER']);
    expect(warn.mock.calls[0]?.[1]).toContain('ADVICE');
  });

  test("works without a connection, as 'request-ip' does; 'framework' cannot", () => {
    const headersOnly = { raw: (r: FakeReq) => ({ headers: r.headers }) };
    const get = compileClientIp('fly-client-ip', undefined, headersOnly, vi.fn());
    expect(get(req('', { 'fly-client-ip': '81.2.69.160' }))).toBe('81.2.69.160');
    expect(() => compileClientIp('request-ip', ['loopback'], headersOnly, vi.fn())).not.toThrow();
    for (const mode of [undefined, 'framework'] as const) {
      expect(() => compileClientIp(mode, undefined, headersOnly, vi.fn())).toThrow(/no socket/);
    }
  });
});

describe("clientIp: 'framework' on a runtime with no peer", () => {
  test('warns once that the platform header is needed', () => {
    const warn = vi.fn();
    const { fw } = framework('off');
    const get = compileClientIp(
      undefined,
      undefined,
      { ...fw, raw: (r: FakeReq) => ({ headers: r.headers }) },
      warn,
    );
    expect(get(req(''))).toBeUndefined();
    get(req(''));
    expect(warn.mock.calls.map(([code]) => code)).toEqual(['IPMATCH_NO_PEER']);
  });
});

describe('clientIp: a function', () => {
  test('is used as it is', () => {
    const mine = (r: FakeReq) => r.headers['x-real-client'];
    const get = compileClientIp(mine, undefined, framework('all').fw, vi.fn());
    expect(get(req('127.0.0.1', { 'x-real-client': '8.8.8.8' }))).toBe('8.8.8.8');
  });
});

describe('clientIpProblems', () => {
  test('trustedProxies without a header to read is a mistake, pointing at the framework setting', () => {
    for (const option of ['framework', () => '81.2.69.160']) {
      expect(clientIpProblems(option, ['10.0.0.0/8'])).toEqual([
        expect.stringMatching(
          /trustedProxies: only used with clientIp: 'request-ip' or a header name.*trust proxy/,
        ),
      ]);
    }
  });

  test('a consistent pair has no problems', () => {
    expect(clientIpProblems('framework', undefined)).toEqual([]);
    expect(clientIpProblems('request-ip', ['loopback'])).toEqual([]);
    expect(clientIpProblems('cf-connecting-ip', ['173.245.48.0/20'])).toEqual([]);
    expect(clientIpProblems('request-ip', ['loopback'], false)).toEqual([]);
  });
});
