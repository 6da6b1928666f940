/**
 * The embedded database has one owner, with real processes: while the server runs on DATA_DIR,
 * `user:create` on the same folder stops at once naming the server's pid and what to do instead;
 * after the server is killed (kill -9 leaves its lock behind) the stale lock is recovered and the
 * command works; a graceful stop removes the lock.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { leftToTheOtherRun } from '../helpers/skip-here.js';
import { LOCK_FILE } from '../../src/db/data-dir-lock.js';

const root = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nysana-lock-'));
  dirs.push(dir);
  return dir;
}

const env = (dir: string) => ({
  ...process.env,
  DATA_DIR: dir,
  DATABASE_URL: '',
  DEMO_DATA: 'false',
  LOG_LEVEL: 'info',
  PORT: '0',
});

function startServer(dir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { ...env(dir), ADMIN_EMAIL: 'owner.admin@example.kz', ADMIN_PASSWORD: 'a-long-enough-password' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listening = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening at (http:\/\/[^"\s]+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, listening, exited };
}

/** `npm run user:create` as the script runs it, the password on stdin. */
function createUser(dir: string, email: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/users/create-cli.ts', '--email', email, '--role', 'admin'],
      {
        cwd: root,
        env: env(dir),
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.stdin.end('another-long-enough-password\n');
    child.on('exit', (code) => resolve({ code, out }));
  });
}

async function login(base: string, email: string, password: string): Promise<number> {
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  return res.status;
}

const elsewhere = leftToTheOtherRun('embedded');

describe.skipIf(elsewhere !== undefined)(
  `embedded database ownership${elsewhere ? ` (skipped: ${elsewhere})` : ''}`,
  () => {
    it('refuses a second process while the server runs, naming it; recovers the lock of a killed server', async () => {
      const dir = await dataDir();
      const server = startServer(dir);
      try {
        const base = await server.listening;
        const lock = JSON.parse(await readFile(path.join(dir, LOCK_FILE), 'utf8')) as { pid: number };
        expect(lock.pid).toBe(server.child.pid);

        const refused = await createUser(dir, 'second@example.kz');
        expect(refused.code).toBe(1);
        expect(refused.out).toContain(`in use by process ${server.child.pid}`);
        expect(refused.out).toMatch(/POST \/api\/v1\/users/);
        expect(refused.out).toMatch(/stop the server first/);
        expect(refused.out).not.toMatch(/created/);
        // The server still owns the folder and works.
        expect(await login(base, 'owner.admin@example.kz', 'a-long-enough-password')).toBe(200);
      } finally {
        server.child.kill('SIGKILL');
        await server.exited;
      }
      // kill -9 left the lock; its process is gone, so the next opener takes the folder over.
      expect(existsSync(path.join(dir, LOCK_FILE))).toBe(true);
      const created = await createUser(dir, 'after.crash@example.kz');
      expect(created.out).toMatch(/created admin after\.crash@example\.kz/);
      expect(created.code).toBe(0);
      expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);

      // The user is really there: the server, started again, lets them log in; SIGTERM releases the lock.
      const again = startServer(dir);
      try {
        const base = await again.listening;
        expect(await login(base, 'after.crash@example.kz', 'another-long-enough-password')).toBe(200);
        again.child.kill('SIGTERM');
        expect(await again.exited).toBe(0);
        expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
      } finally {
        again.child.kill('SIGKILL');
      }
    }, 240_000);

    it('recovers a lock naming a process that no longer exists, and refuses one naming a live process', async () => {
      const dir = await dataDir();
      // A pid that cannot be running (above the kernel's pid_max).
      await writeFile(
        path.join(dir, LOCK_FILE),
        JSON.stringify({
          pid: 2 ** 22 + 7,
          hostname: os.hostname(),
          command: 'crashed',
          since: '2026-01-01T00:00:00Z',
        }),
      );
      const recovered = await createUser(dir, 'stale@example.kz');
      expect(recovered.out).toMatch(/created admin stale@example\.kz/);
      // A live process of this host (this test's own) holds it: refused, naming that pid.
      await writeFile(
        path.join(dir, LOCK_FILE),
        JSON.stringify({ pid: process.pid, hostname: os.hostname(), command: 'vitest', since: '2026-01-01T00:00:00Z' }),
      );
      const refused = await createUser(dir, 'blocked@example.kz');
      expect(refused.code).toBe(1);
      expect(refused.out).toContain(`in use by process ${process.pid}`);
      expect(existsSync(path.join(dir, LOCK_FILE))).toBe(true);
    }, 240_000);
  },
);
