/**
 * `npm start` as a newcomer runs it: the compiled output (dist/, built here as `prestart` builds
 * it, so the compiled paths to migrations/ and the demo data are what is tested), a fresh embedded
 * database in DATA_DIR, migrations, the demo plan, the API on a port; SIGTERM stops it cleanly
 * with exit code 0.
 */
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { leftToTheOtherRun } from '../helpers/skip-here.js';

const root = path.resolve(import.meta.dirname, '../..');

function startServer(
  env: Record<string, string>,
  command: [string, string[]] = [process.execPath, ['dist/server.js']],
  detached = false,
) {
  const child = spawn(command[0], command[1], {
    cwd: root,
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, as a terminal gives a foreground job (Ctrl-C signals the whole group).
    detached,
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
  listening.catch(() => {}); // a test that expects the exit awaits `exited` instead
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, listening, exited, output: () => output };
}

const elsewhere = leftToTheOtherRun('embedded');

describe.skipIf(elsewhere !== undefined)(`npm start${elsewhere ? ` (skipped: ${elsewhere})` : ''}`, () => {
  beforeAll(() => {
    execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: root,
      stdio: 'pipe',
    });
  }, 180_000);

  it('serves the API on a fresh embedded database with the demo plan and stops cleanly on SIGTERM', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'nysana-start-'));
    const server = startServer({
      DATA_DIR: dataDir,
      ADMIN_EMAIL: 'first.admin@example.kz',
      ADMIN_PASSWORD: 'a-long-enough-password',
    });
    try {
      const base = await server.listening;
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(200);
      expect(ready.headers.get('x-request-id')).toBeTruthy();
      expect(server.output()).toMatch(/loaded the demo plan/);
      const login = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'first.admin@example.kz', password: 'a-long-enough-password' }),
      });
      expect(login.status).toBe(200);
      const { accessToken } = (await login.json()) as { accessToken: string };

      // A slow upload is in flight when SIGTERM arrives: it must still complete.
      const body = JSON.stringify({ code: 'SLOW', name: { en: 'Sent slowly' } });
      const url = new URL(base);
      const socket = net.connect(Number(url.port), url.hostname);
      await new Promise((resolve) => socket.once('connect', resolve));
      let response = '';
      socket.on('data', (chunk) => (response += chunk.toString()));
      const closed = new Promise((resolve) => socket.once('close', resolve));
      socket.write(
        `POST /api/v1/organizations HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${accessToken}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      server.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 500));
      socket.end(body.slice(10));
      await closed;
      expect(response).toMatch(/^HTTP\/1\.1 201/);
      expect(await server.exited).toBe(0);
      expect(server.output()).toMatch(/shutting down/);
    } finally {
      server.child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 90_000);

  /** `npm start` itself (its prestart build skipped: dist/ was built above). */
  const npmStart: [string, string[]] = ['npm', ['start', '--ignore-scripts', '--silent']];

  /** Whether anything still accepts connections at `base`. */
  const serving = (base: string) =>
    fetch(`${base}/health/live`).then(
      () => true,
      () => false,
    );

  it('stops gracefully when SIGTERM goes to the npm start process alone, freeing the port', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'nysana-start-'));
    const server = startServer({ DATA_DIR: dataDir, DEMO_DATA: 'false' }, npmStart, true);
    try {
      const base = await server.listening;
      expect(await serving(base)).toBe(true);
      process.kill(server.child.pid!, 'SIGTERM'); // npm's pid only, as a supervisor does
      expect(await server.exited).toBe(0);
      expect(server.output().match(/shutting down/g)).toHaveLength(1);
      expect(await serving(base)).toBe(false);
    } finally {
      try {
        process.kill(-server.child.pid!, 'SIGKILL');
      } catch {
        // the group is gone
      }
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('stops once, cleanly, on Ctrl-C (SIGINT to the whole process group) under npm start', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'nysana-start-'));
    const server = startServer({ DATA_DIR: dataDir, DEMO_DATA: 'false' }, npmStart, true);
    try {
      const base = await server.listening;
      process.kill(-server.child.pid!, 'SIGINT');
      const code = await server.exited;
      expect(server.output()).not.toMatch(/second signal|second SIGINT/);
      expect(server.output().match(/shutting down/g)).toHaveLength(1);
      expect(code).toBe(0);
      expect(await serving(base)).toBe(false);
    } finally {
      try {
        process.kill(-server.child.pid!, 'SIGKILL');
      } catch {
        // the group is gone
      }
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses to start on a bad variable and names it', async () => {
    const server = startServer({ PORT: 'not-a-port' });
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(/PORT/);
  }, 60_000);
});
