/**
 * `startFakeVonage` in a child process of its own, so that its CPU (parsing each number, building each
 * answer) does not share an event loop with the checks being timed. Driven over IPC by bench/vonage-path.ts.
 */
import { startFakeVonage } from '../src/testing/index.js';

export type ToFake = { type: 'stats' } | { type: 'hang'; hang: boolean } | { type: 'quit' };
export type FromFake =
  | { type: 'ready'; url: string; applicationId: string; privateKey: string }
  | { type: 'stats'; calls: number; connections: number; openConnections: number }
  | { type: 'ok' };

const latencyMs = Number(process.argv[2] ?? 50);
const fake = await startFakeVonage({ latencyMs });
const send = (m: FromFake) => process.send!(m);

process.on('message', async (m: ToFake) => {
  if (m.type === 'stats') {
    send({
      type: 'stats',
      calls: fake.calls,
      connections: fake.connections,
      openConnections: fake.openConnections,
    });
  } else if (m.type === 'hang') {
    fake.set({ hang: m.hang });
    send({ type: 'ok' });
  } else if (m.type === 'quit') {
    await fake.close();
    process.exit(0);
  }
});
send({ type: 'ready', url: fake.url, applicationId: fake.applicationId, privateKey: fake.privateKey });
