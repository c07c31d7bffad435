import { describe, expect, test } from 'vitest';
import { compileTrustedProxies, isProxyEntry } from '../../src/adapters/shared/proxies.js';

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

describe('X-Forwarded-For entries', () => {
  test('only a strict address can be a trusted hop: no hex, octal, shorthand, zone id or port', () => {
    const trusted = compileTrustedProxies(['10.0.0.0/8', 'fe80::/10']);
    for (const entry of [
      '0xa.0.0.1',
      '012.0.0.1',
      '10.1',
      '167772161',
      'fe80::1%eth0',
      '10.0.0.1:80',
      '[10.0.0.1]',
    ])
      expect(trusted(entry)).toBe(false);
    expect(trusted(' 10.0.0.1 ')).toBe(true);
  });
});
