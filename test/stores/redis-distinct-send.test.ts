import { RedisStore } from 'ipmatch/redis';
import { describe, expect, it } from 'vitest';

/**
 * `distinct` chains the client's answer with promise callbacks, not `await`: whatever a user's `sendCommand`
 * does (throw at once, answer a plain value, answer NOSCRIPT or CROSSSLOT), the store still answers as `await`
 * would have taken it, and never throws synchronously.
 */
describe('RedisStore.distinct over a bare sendCommand', () => {
  const op = (key: string) => ({ key, member: 'm', windowMs: 60_000, cap: 10 });
  const store = (sendCommand: (...args: string[]) => unknown) =>
    new RedisStore({ sendCommand: sendCommand as (...args: string[]) => Promise<unknown>, prefix: 'p:' });

  it('rejects, never throws, when sendCommand throws synchronously', async () => {
    const s = store(() => {
      throw new Error('socket closed');
    });
    let call: Promise<number[]> | undefined;
    expect(() => {
      call = s.distinct([op('a')]);
    }).not.toThrow();
    await expect(call).rejects.toThrow('socket closed');
  });

  it('takes a plain value (not a promise) as the reply', async () => {
    await expect(store(() => [3, 1]).distinct([op('a'), op('a')])).resolves.toEqual([3, 1]);
  });

  it('loads the script with EVAL after a NOSCRIPT thrown synchronously, in a new array', async () => {
    const sent: string[][] = [];
    const s = store((...args) => {
      sent.push(args);
      if (args[0] === 'EVALSHA') throw new Error('NOSCRIPT No matching script');
      return Promise.resolve([2]);
    });
    await expect(s.distinct([op('a')])).resolves.toEqual([2]);
    expect(sent.map((a) => a[0])).toEqual(['EVALSHA', 'EVAL']);
    expect(sent[1]![1]).toContain("redis.call('TIME')");
    expect(sent[0]![1]).toMatch(/^[0-9a-f]{40}$/);
  });

  it('after a CROSSSLOT answer, sends one command per hash slot from then on', async () => {
    const sent: string[][] = [];
    const s = store(async (...args) => {
      sent.push(args);
      const keys = Number(args[2]);
      if (keys > 1) throw new Error("CROSSSLOT Keys in request don't hash to the same slot");
      return [7];
    });
    // 'p:a' and 'p:b' hash to different slots.
    await expect(s.distinct([op('a'), op('b')])).resolves.toEqual([7, 7]);
    expect(sent.map((a) => a[2])).toEqual(['2', '1', '1']);
    sent.length = 0;
    await expect(s.distinct([op('a'), op('b')])).resolves.toEqual([7, 7]);
    expect(sent.map((a) => a[2])).toEqual(['1', '1']);
  });
});
