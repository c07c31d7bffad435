import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/core/errors.js';
import { CircuitBreaker } from '../../src/providers/breaker.js';

function setup(failures = 3, cooldownMs = 1000) {
  let clock = 0;
  const changes: string[] = [];
  const breaker = new CircuitBreaker({
    failures,
    cooldownMs,
    now: () => clock,
    onChange: (state, n) => changes.push(`${state}:${n}`),
  });
  let calls = 0;
  const fail = (upstream = true) =>
    breaker.run(async () => {
      calls++;
      throw new ProviderError('http_502', 'Vonage answered HTTP 502', { upstream });
    });
  const succeed = () =>
    breaker.run(async () => {
      calls++;
      return 'ok';
    });
  return {
    breaker,
    changes,
    fail,
    succeed,
    calls: () => calls,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe('CircuitBreaker', () => {
  it('stays closed below the failure threshold and a success resets the count', async () => {
    const b = setup(3);
    await expect(b.fail()).rejects.toThrow('HTTP 502');
    await expect(b.fail()).rejects.toThrow('HTTP 502');
    await expect(b.succeed()).resolves.toBe('ok');
    await expect(b.fail()).rejects.toThrow('HTTP 502');
    await expect(b.fail()).rejects.toThrow('HTTP 502');
    expect(b.breaker.state()).toBe('closed');
    expect(b.changes).toEqual([]);
  });

  it('opens after N consecutive failures and then refuses without calling upstream', async () => {
    const b = setup(3);
    for (let i = 0; i < 3; i++) await expect(b.fail()).rejects.toThrow('HTTP 502');
    expect(b.breaker.state()).toBe('open');
    expect(b.changes).toEqual(['open:3']);
    const refused = await b.succeed().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProviderError);
    expect(refused).toMatchObject({ code: 'circuit_open', upstream: false });
    expect((refused as Error).message).toMatch(/paused after 3 consecutive failures; next try in 1 s/);
    expect(b.calls()).toBe(3);
  });

  it('lets one probe through after the cooldown, and a successful probe closes it', async () => {
    const b = setup(2, 1000);
    await expect(b.fail()).rejects.toThrow();
    await expect(b.fail()).rejects.toThrow();
    b.advance(999);
    expect(b.breaker.state()).toBe('open');
    b.advance(1);
    expect(b.breaker.state()).toBe('half-open');

    let release!: (v: string) => void;
    const probe = b.breaker.run(() => new Promise<string>((r) => (release = r)));
    // While the probe is out, everyone else is still refused.
    await expect(b.succeed()).rejects.toMatchObject({ code: 'circuit_open' });
    release('probed');
    await expect(probe).resolves.toBe('probed');
    expect(b.breaker.state()).toBe('closed');
    expect(b.changes).toEqual(['open:2', 'closed:0']);
    await expect(b.succeed()).resolves.toBe('ok');
  });

  it('a call that began before it opened and succeeds late does not close it: only the probe does', async () => {
    const b = setup(2, 1000);
    let release!: (v: string) => void;
    const straggler = b.breaker.run(() => new Promise<string>((r) => (release = r)));
    await expect(b.fail()).rejects.toThrow();
    await expect(b.fail()).rejects.toThrow();
    expect(b.breaker.state()).toBe('open');
    release('late');
    await expect(straggler).resolves.toBe('late');
    expect(b.breaker.state()).toBe('open');
    await expect(b.succeed()).rejects.toMatchObject({ code: 'circuit_open' });
    b.advance(1000);
    await expect(b.succeed()).resolves.toBe('ok');
    expect(b.changes).toEqual(['open:2', 'closed:0']);
  });

  it('a failed probe re-opens it for a whole new cooldown', async () => {
    const b = setup(1, 1000);
    await expect(b.fail()).rejects.toThrow();
    b.advance(1000);
    await expect(b.fail()).rejects.toMatchObject({ code: 'http_502' });
    expect(b.breaker.state()).toBe('open');
    b.advance(500);
    await expect(b.succeed()).rejects.toMatchObject({ code: 'circuit_open' });
    b.advance(500);
    await expect(b.succeed()).resolves.toBe('ok');
    // Re-opening from a probe is not a new "open" event: the log says open once, then closed once.
    expect(b.changes).toEqual(['open:1', 'closed:0']);
  });

  it('failures that say nothing about upstream health (bad number, bad credentials) do not count', async () => {
    const b = setup(2);
    for (let i = 0; i < 10; i++) await expect(b.fail(false)).rejects.toThrow();
    expect(b.breaker.state()).toBe('closed');
    await expect(b.fail(true)).rejects.toThrow();
    await expect(b.fail(false)).rejects.toThrow();
    await expect(b.fail(true)).rejects.toThrow();
    expect(b.breaker.state()).toBe('closed');
  });

  it('counts errors that are not ProviderErrors (an unexpected exception) as failures', async () => {
    const b = setup(1);
    await expect(
      b.breaker.run(async () => {
        throw new TypeError('boom');
      }),
    ).rejects.toThrow('boom');
    expect(b.breaker.state()).toBe('open');
  });
});
