/**
 * One owner per embedded database folder. PGlite is PostgreSQL in this process's memory: a second
 * process opening the same DATA_DIR (say `npm run user:create` while the server runs) works on its
 * own copy, its writes are lost or, worse, both write the folder and corrupt it. So the opener
 * takes DATA_DIR/nysana.lock, holding its pid, and a second opener stops at once naming the owner.
 *
 * The lock is created atomically (written to a private file, then hard-linked to the lock's name:
 * the link fails if a lock exists, and a reader never sees it half-written). A lock whose process
 * is gone (a crash, a kill -9) is stale: it is moved aside (rename is atomic, so of two processes
 * recovering it at once only one gets it) and checked again before it is removed. Alive means the
 * pid answers signal 0 and, on Linux, started when the lock says (so a recycled pid is not mistaken
 * for the owner); a lock holding our own pid (a container restarted as pid 1 again) is stale too.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const LOCK_FILE = 'nysana.lock';

interface LockInfo {
  pid: number;
  /** Process start time in clock ticks since boot (/proc/<pid>/stat field 22), when known. */
  startTicks?: number;
  hostname: string;
  command: string;
  since: string;
}

export class DataDirInUse extends Error {
  constructor(
    readonly dataDir: string,
    readonly owner: LockInfo,
  ) {
    super(
      `The embedded database in ${path.resolve(dataDir)} is in use by process ${owner.pid} ` +
        `(${owner.command}, on ${owner.hostname} since ${owner.since}). One process at a time may open it: ` +
        'while the server runs, do this through its API (e.g. POST /api/v1/users instead of `npm run user:create`), ' +
        `or stop the server first and run the command again. If process ${owner.pid} is not running, ` +
        `remove ${path.join(path.resolve(dataDir), LOCK_FILE)}.`,
    );
  }
}

function startTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the command) may hold spaces and parentheses: count from the last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(info: LockInfo): boolean {
  if (!Number.isSafeInteger(info.pid) || info.pid <= 0 || info.pid === process.pid) return false;
  if (info.hostname !== os.hostname()) return true; // another machine's process: cannot tell, assume alive
  try {
    process.kill(info.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTicks(info.pid);
  return info.startTicks === undefined || now === undefined || now === info.startTicks;
}

function parse(text: string): LockInfo | undefined {
  try {
    const info = JSON.parse(text) as LockInfo;
    return typeof info.pid === 'number' ? info : undefined;
  } catch {
    return undefined;
  }
}

export interface DataDirLock {
  release(): Promise<void>;
}

/** Takes DATA_DIR's lock, or throws DataDirInUse naming the process that holds it. */
export async function lockDataDir(dataDir: string, command = process.argv.slice(1).join(' ')): Promise<DataDirLock> {
  const lockPath = path.join(dataDir, LOCK_FILE);
  const mine: LockInfo = {
    pid: process.pid,
    startTicks: startTicks(process.pid),
    hostname: os.hostname(),
    command: path.basename(command).slice(0, 200) || 'node',
    since: new Date().toISOString(),
  };
  const text = JSON.stringify(mine);
  const draft = `${lockPath}.${process.pid}.tmp`;
  await writeFile(draft, text);
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await link(draft, lockPath);
        const release = async () => {
          process.removeListener('exit', releaseSync);
          try {
            if ((await readFile(lockPath, 'utf8')) === text) await unlink(lockPath);
          } catch {
            // already gone
          }
        };
        // A process.exit() elsewhere (a CLI's error path) must not leave a lock behind either.
        const releaseSync = () => {
          try {
            if (readFileSync(lockPath, 'utf8') === text) unlinkSync(lockPath);
          } catch {
            // already gone
          }
        };
        process.once('exit', releaseSync);
        return { release };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const current = await readFile(lockPath, 'utf8').catch(() => undefined);
      if (current === undefined) continue; // released meanwhile: try again
      const owner = parse(current);
      if (owner && isAlive(owner)) throw new DataDirInUse(dataDir, owner);
      // Stale (or unreadable): move it aside, and remove it only if it is still the stale one.
      const aside = `${lockPath}.stale.${process.pid}`;
      try {
        await rename(lockPath, aside);
      } catch {
        continue; // someone else moved it first
      }
      const moved = await readFile(aside, 'utf8').catch(() => undefined);
      if (moved !== current) {
        // A fresh lock got in between: put it back (link fails if yet another appeared) and look again.
        await link(aside, lockPath).catch(() => undefined);
      }
      await unlink(aside).catch(() => undefined);
    }
    throw new Error(`Could not take the lock ${lockPath}; retry.`);
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}
