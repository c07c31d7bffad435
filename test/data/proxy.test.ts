import { describe, expect, it } from 'vitest';
import { invalidProxy, proxyFor, proxySettings } from '../../src/data/proxy.js';

const via = (url: string, env: Record<string, string>) => proxyFor(new URL(url), proxySettings(env))?.url;
const P = 'http://proxy.corp:3128';

describe('proxyFor', () => {
  it('reads lowercase names first, and https falls back to the http proxy', () => {
    expect(via('https://github.com/x', { HTTPS_PROXY: P, https_proxy: 'http://low:1' })).toBe('http://low:1');
    expect(via('https://github.com/x', { HTTP_PROXY: P })).toBe(P);
    expect(via('https://github.com/x', {})).toBeUndefined();
  });

  it.each([
    ['github.com', 'https://github.com/x', undefined],
    ['.github.com', 'https://objects.github.com/x', undefined],
    ['github.com', 'https://objects.github.com/x', undefined],
    ['*', 'https://ipinfo.io/x', undefined],
    ['ipinfo.io:8443', 'https://ipinfo.io/x', P],
    ['ipinfo.io:443', 'https://ipinfo.io/x', undefined],
    ['hub.com', 'https://github.com/x', P],
  ])('NO_PROXY=%s, %s → %s', (noProxy, url, expected) => {
    expect(via(url, { HTTPS_PROXY: P, NO_PROXY: noProxy })).toBe(expected);
  });

  it('never proxies loopback: a proxy elsewhere cannot reach it, and http there would carry credentials in clear', () => {
    for (const url of [
      'http://127.0.0.1:8080/f',
      'http://localhost/f',
      'http://[::1]:9/f',
      'https://127.0.0.2/f',
    ]) {
      expect(via(url, { HTTPS_PROXY: P, HTTP_PROXY: P })).toBeUndefined();
    }
  });

  it('refuses a proxy value that is not a URL, without quoting it', () => {
    const wrong = invalidProxy(proxySettings({ HTTPS_PROXY: 'user:s3cret@proxy' }));
    expect(wrong).toMatch(/^HTTPS_PROXY is not a proxy URL/);
    expect(wrong).not.toContain('s3cret');
  });
});
