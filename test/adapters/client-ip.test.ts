import { IpMatchConfigError } from 'ipmatch';
import { describe, expect, test, vi } from 'vitest';
import {
  clientIpProblems,
  compileClientIp,
  compileTrustedProxies,
  isProxyEntry,
  type ProxyTrust,
  type RequestIp,
} from '../../src/adapters/client-ip.js';

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

describe('trusted proxies', () => {
  test.each([
    '10.0.0.0/8',
    '10.1.2.3',
    '::1',
    '2001:db8::/32',
    '::ffff:10.0.0.0/104',
    'loopback',
    'linklocal',
    'uniquelocal',
  ])('%s is a valid entry', (entry) => {
    expect(isProxyEntry(entry)).toBe(true);
  });

  test.each([
    '10.0.0.0/33',
    '10.0.0',
    '010.0.0.1',
    '0x0a.0.0.1',
    'proxy.internal',
    '',
    '10.0.0.1/',
    '::1/129',
  ])('%j is not an entry', (entry) => {
    expect(isProxyEntry(entry)).toBe(false);
  });

  test('CIDR ranges match IPv4 peers, plain and IPv4-mapped', () => {
    const trusted = compileTrustedProxies(['10.0.0.0/8']);
    expect(trusted('10.200.3.4')).toBe(true);
    expect(trusted('::ffff:10.200.3.4')).toBe(true);
    expect(trusted('11.0.0.1')).toBe(false);
    expect(trusted('::ffff:11.0.0.1')).toBe(false);
  });

  test('a single IP matches only itself', () => {
    const trusted = compileTrustedProxies(['192.0.2.10']);
    expect(trusted('192.0.2.10')).toBe(true);
    expect(trusted('192.0.2.11')).toBe(false);
  });

  test('IPv6 ranges, and IPv4-mapped ranges written in IPv6', () => {
    const trusted = compileTrustedProxies(['2001:db8::/32', '::ffff:172.16.0.0/108']);
    expect(trusted('2001:db8:1::5')).toBe(true);
    expect(trusted('2001:db9::5')).toBe(false);
    expect(trusted('172.16.9.9')).toBe(true);
    expect(trusted('::ffff:172.16.9.9')).toBe(true);
    expect(trusted('172.32.0.1')).toBe(false);
  });

  test("'loopback' covers 127/8, ::1 and IPv4-mapped loopback", () => {
    const trusted = compileTrustedProxies(['loopback']);
    for (const peer of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1'])
      expect(trusted(peer)).toBe(true);
    expect(trusted('10.0.0.1')).toBe(false);
  });

  test('a missing or unparseable peer is never trusted', () => {
    const trusted = compileTrustedProxies(['0.0.0.0/0', '::/0']);
    expect(trusted(undefined)).toBe(false);
    expect(trusted('')).toBe(false);
    expect(trusted('not-an-ip')).toBe(false);
    expect(trusted('8.8.8.8')).toBe(true);
  });
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
  test('headers count from a trusted peer', () => {
    const get = compileClientIp('request-ip', ['10.0.0.0/8'], framework('off').fw, vi.fn());
    expect(get(req('10.1.1.1', { 'x-client-ip': '81.2.69.160' }))).toBe('81.2.69.160');
    expect(get(req('::ffff:10.1.1.1', { 'x-forwarded-for': '211.234.0.1, 10.1.1.2' }))).toBe('211.234.0.1');
    expect(get(req('10.1.1.1'))).toBe('10.1.1.1');
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

  test('the framework trust setting plays no part', () => {
    const { fw, ip } = framework('all');
    const get = compileClientIp('request-ip', ['loopback'], fw, vi.fn());
    expect(get(req('203.0.113.9', { 'x-client-ip': '81.2.69.160' }, '81.2.69.160'))).toBe('203.0.113.9');
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
  test("is the header's right-most entry, whatever the framework's trust", () => {
    const { fw, ip } = framework('all');
    const get = compileClientIp('CF-Connecting-IP', undefined, fw, vi.fn());
    expect(get(req('127.0.0.1', { 'cf-connecting-ip': '81.2.69.160' }))).toBe('81.2.69.160');
    expect(get(req('127.0.0.1', { 'cf-connecting-ip': '8.8.8.8 , 81.2.69.160 ' }))).toBe('81.2.69.160');
    expect(get(req('127.0.0.1', { 'cf-connecting-ip': '' }))).toBeUndefined();
    expect(get(req('127.0.0.1'))).toBeUndefined();
    expect(ip).not.toHaveBeenCalled();
  });

  test('works without a connection, where the framework modes cannot', () => {
    const headersOnly = { raw: (r: FakeReq) => ({ headers: r.headers }) };
    const get = compileClientIp('fly-client-ip', undefined, headersOnly, vi.fn());
    expect(get(req('', { 'fly-client-ip': '81.2.69.160' }))).toBe('81.2.69.160');
    for (const mode of [undefined, 'framework', 'request-ip'] as const) {
      expect(() => compileClientIp(mode, ['loopback'], headersOnly, vi.fn())).toThrow(/no socket/);
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
  test('trustedProxies without request-ip is a mistake, pointing at the framework setting', () => {
    expect(clientIpProblems('framework', ['10.0.0.0/8'])).toEqual([
      expect.stringMatching(/trustedProxies: only used with clientIp: 'request-ip'.*trust proxy/),
    ]);
  });

  test('a consistent pair has no problems', () => {
    expect(clientIpProblems('framework', undefined)).toEqual([]);
    expect(clientIpProblems('request-ip', ['loopback'])).toEqual([]);
  });
});
