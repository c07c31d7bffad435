/** The data dir's update lock: one updater at a time, and a dead holder's lock taken over at once. */
import { requireBuiltin } from '../core/builtins.js';
import { dataFile } from '../geodata/dir.js';
import { IpMatchDataError } from '../geodata/errors.js';

/** What the lock file holds: who holds it, so that a dead holder can be recognised. */
interface Holder {
  pid: number;
  host: string;
  token: string;
  since: string;
}

export interface HeldLock {
  /** true while the lock file is still ours (checked right before installing). */
  stillHeld(): Promise<boolean>;
  release(): Promise<void>;
}

/** The holder touches the lock this often, so that a holder on another host shows it is alive. */
const HEARTBEAT_MS = 5_000;
/**
 * A lock untouched for this long is stale whoever holds it: the holder on another host (a shared volume)
 * died without removing it. Twelve missed heartbeats, so that a stalled disk does not look like a death.
 */
const STALE_MS = 60_000;
const POLL_MS = 200;
/** Longer than any holder takes between creating the lock file and writing its few bytes. */
const WRITE_GRACE_MS = 2_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data dir's update lock (an O_EXCL file), waiting up to `waitMs` for another updater to finish.
 * A lock whose holder is gone is taken over at once: a PID that no longer runs on this host, or a lock
 * nobody has touched for a minute (a holder on another host). Throws IpMatchDataError('locked') on timeout.
 */
export async function acquireLock(dir: string, waitMs: number): Promise<HeldLock> {
  const fs = requireBuiltin('node:fs', 'the lock is a file on disk');
  const os = requireBuiltin('node:os', 'the lock names its host');
  const { randomUUID } = requireBuiltin('node:crypto', 'the lock holds a random token');
  const path = dataFile(dir, 'lock');
  const me: Holder = {
    pid: process.pid,
    host: os.hostname(),
    token: randomUUID(),
    since: new Date().toISOString(),
  };
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await fs.promises.writeFile(path, JSON.stringify(me), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = await readHolder(path);
    if (holder === 'gone') continue;
    if (holder === 'stale' || (holder !== 'busy' && holder.host === me.host && !alive(holder.pid))) {
      await takeOver(path, holder === 'stale' ? undefined : holder.token);
      continue;
    }
    if (Date.now() >= deadline) {
      const who =
        holder === 'busy' ? 'another updater' : `pid ${holder.pid} on ${holder.host}, since ${holder.since}`;
      throw new IpMatchDataError('locked', `another update is running (${who}); try again later`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    fs.promises.utimes(path, now, now).catch(() => {});
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const stillHeld = async () => {
    const holder = await readHolder(path);
    return typeof holder === 'object' && holder.token === me.token;
  };
  return {
    stillHeld,
    async release() {
      clearInterval(heartbeat);
      if (await stillHeld()) await fs.promises.rm(path, { force: true });
    },
  };
}

/**
 * The holder; 'stale' when the file is untouched for STALE_MS or unreadable for longer than a holder needs
 * to write it; 'busy' while it is being written; 'gone' when it vanished.
 */
async function readHolder(path: string): Promise<Holder | 'stale' | 'busy' | 'gone'> {
  const fs = requireBuiltin('node:fs', 'the lock is a file on disk');
  let text: string;
  let age: number;
  try {
    const [content, stat] = await Promise.all([fs.promises.readFile(path, 'utf8'), fs.promises.stat(path)]);
    text = content;
    age = Date.now() - stat.mtimeMs;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw e;
  }
  if (age > STALE_MS) return 'stale';
  try {
    const holder = JSON.parse(text) as Holder;
    if (typeof holder.pid === 'number' && typeof holder.token === 'string') return holder;
  } catch {
    // Empty: created by `wx` but not yet written. A holder killed right there leaves it so for good.
  }
  return age > WRITE_GRACE_MS ? 'stale' : 'busy';
}

/**
 * Removes a dead holder's lock. Renaming first means that of two updaters taking over at once only one
 * removes the file; should the renamed file turn out to be a live holder's (it took over in between),
 * it is put back.
 */
async function takeOver(path: string, deadToken: string | undefined): Promise<void> {
  const fs = requireBuiltin('node:fs', 'the lock is a file on disk');
  const aside = `${path}.${process.pid}.stale`;
  try {
    await fs.promises.rename(path, aside);
  } catch {
    return; // someone else moved it first
  }
  let token: string | undefined;
  try {
    token = (JSON.parse(await fs.promises.readFile(aside, 'utf8')) as Holder).token;
  } catch {
    token = undefined;
  }
  if (deadToken !== undefined && token !== deadToken) {
    await fs.promises.link(aside, path).catch(() => {});
  }
  await fs.promises.rm(aside, { force: true });
}
