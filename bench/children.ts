import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Path of a file beside this one. */
export const benchFile = (name: string) => fileURLToPath(new URL(name, import.meta.url));

/** Starts a bench TypeScript file as a child process with IPC, through tsx (as `npm run bench` runs). */
export function forkTs(name: string, args: string[] = [], execArgv: string[] = []): ChildProcess {
  return fork(benchFile(name), args, {
    execArgv: [...execArgv, '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The child's next message of `type`; rejects if it exits first. */
export function nextMessage<T extends { type: string }>(child: ChildProcess, type: T['type']): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: T) => {
      if (m?.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code: number | null) => {
      child.off('message', onMessage);
      reject(new Error(`child ${child.pid} exited (${code}) before sending '${type}'`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Sends `message` and waits for the answer of type `reply`. */
export async function ask<T extends { type: string }>(
  child: ChildProcess,
  message: { type: string; [key: string]: unknown },
  reply: T['type'],
): Promise<T> {
  const answer = nextMessage<T>(child, reply);
  child.send(message);
  return answer;
}

/** Runs a one-shot child that sends a single `{ type: 'result', result }`, and returns its result. */
export async function runChild<R>(name: string, args: string[] = [], execArgv: string[] = []): Promise<R> {
  const child = forkTs(name, args, execArgv);
  const { result } = await nextMessage<{ type: 'result'; result: R }>(child, 'result');
  await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null)));
  return result;
}

/** In a one-shot child: sends the result to the parent (or prints it when run by hand), then exits. */
export function reply(result: unknown): void {
  if (process.send) process.send({ type: 'result', result }, () => process.exit(0));
  else {
    console.log(JSON.stringify(result, null, 2));
    process.exit(0);
  }
}
