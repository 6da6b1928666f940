/**
 * A PostgreSQL 15 server of the test's own (initdb into a temp folder, a free port), so a test
 * can stop and start it under load. Needs the Debian PostgreSQL 15 binaries; as root it runs
 * the server as the `postgres` user, which PostgreSQL insists on.
 */
import { leftToTheOtherRun } from './skip-here.js';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const BIN = '/usr/lib/postgresql/15/bin';

function postgresUid(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** Why an own server cannot run here, or undefined when it can. */
export function ownPostgresUnavailable(): string | undefined {
  const elsewhere = leftToTheOtherRun('own-postgres');
  if (elsewhere) return elsewhere;
  if (!existsSync(`${BIN}/initdb`)) return `no PostgreSQL 15 binaries in ${BIN}`;
  if (process.getuid?.() === 0 && !postgresUid()) return 'running as root without a postgres user';
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface OwnPostgres {
  url: string;
  start(): void;
  stop(): void;
  destroy(): void;
}

export async function createOwnPostgres(): Promise<OwnPostgres> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nysana-pg-'));
  const data = path.join(dir, 'data');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? postgresUid()! : undefined;
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const run = (args: string[]) => {
    const [cmd, ...rest] = asRoot ? ['runuser', '-u', 'postgres', '--', ...args] : args;
    execFileSync(cmd!, rest, { stdio: 'pipe', timeout: 60_000 });
  };
  run([`${BIN}/initdb`, '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const pgCtl = (action: string[]) =>
    run([`${BIN}/pg_ctl`, '-D', data, '-l', path.join(dir, 'log'), '-w', '-t', '30', ...action]);
  const start = () => pgCtl(['-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    // Immediate: connections die as in a crash or a network cut, not a polite shutdown.
    stop: () => pgCtl(['-m', 'immediate', 'stop']),
    destroy() {
      try {
        pgCtl(['-m', 'immediate', 'stop']);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
