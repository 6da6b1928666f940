/**
 * `npm run user:create -- --email a@b.kz --role admin [--name "..."] [--organization CODE|ID]`
 *
 * The password is never an argument (it would sit in shell history and `ps`): it is prompted for
 * twice, without echo, on a terminal, or read from the first line of stdin otherwise
 * (`printf '%s\n' "$PW" | npm run user:create -- ...`).
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { hashPassword } from '../auth/passwords.js';
import { NewPassword, Role } from '../auth/schemas.js';
import { loadConfig } from '../config.js';
import { isUniqueViolation } from '../db/errors.js';
import { migrate } from '../db/migrate.js';
import { openDatabaseOrExit } from '../db/open.js';
import { organizations, users } from '../db/schema.js';
import { Email } from './schemas.js';

const USAGE =
  'usage: npm run user:create -- --email EMAIL --role admin|editor|viewer [--name NAME] [--organization CODE_OR_ID]';

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin });
    for await (const line of rl) {
      rl.close();
      return line;
    }
    throw new Error('no password on stdin');
  }
  const ask = (prompt: string) =>
    new Promise<string>((resolve) => {
      const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
      // Mute the echo of typed characters after the prompt.
      const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput;
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
        if (s.startsWith(prompt)) write.call(rl, prompt);
      };
      rl.question(prompt, (answer) => {
        rl.close();
        process.stdout.write('\n');
        resolve(answer);
      });
    });
  const first = await ask('Password: ');
  const second = await ask('Repeat password: ');
  if (first !== second) throw new Error('the passwords differ');
  return first;
}

async function main() {
  const { values } = parseArgs({
    options: {
      email: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      organization: { type: 'string' },
    },
  });
  const email = Email.safeParse(values.email ?? '');
  const role = Role.safeParse(values.role);
  if (!email.success || !role.success) throw new Error(USAGE);
  // The database first: when the server holds DATA_DIR this stops before asking for a password.
  const config = loadConfig();
  const database = await openDatabaseOrExit(config);
  try {
    const password = NewPassword.safeParse(await readPassword());
    if (!password.success) throw new Error(`password: ${z.prettifyError(password.error)}`);
    await migrate(database);
    const db = database.db;
    let organizationId: string | null = null;
    if (values.organization) {
      const byId = z.uuid().safeParse(values.organization).success;
      const [org] = await db
        .select({ id: organizations.id })
        .from(organizations)
        .where(byId ? eq(organizations.id, values.organization) : eq(organizations.code, values.organization));
      if (!org) throw new Error(`no organization ${values.organization}`);
      organizationId = org.id;
    }
    if (role.data === 'editor' && !organizationId) throw new Error('an editor needs --organization');
    const [created] = await db
      .insert(users)
      .values({
        email: email.data,
        displayName: values.name ?? email.data,
        role: role.data,
        organizationId,
        passwordHash: await hashPassword(password.data),
      })
      .returning({ id: users.id });
    console.log(`created ${role.data} ${email.data} (${created!.id})`);
  } catch (error) {
    if (isUniqueViolation(error)) throw new Error(`a user with e-mail ${email.data} already exists`, { cause: error });
    throw error;
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
