/** Password hashing with bcrypt (bcryptjs: no native build step on fresh machines). */
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { appContext } from '../context.js';

/** The bcrypt hash of a password at the configured cost. */
export const hashPassword = (password: string): Promise<string> =>
  bcrypt.hash(password, appContext().config.passwordHashRounds);

/** True when the password matches the hash. */
export const verifyPassword = (password: string, hash: string): Promise<boolean> => bcrypt.compare(password, hash);

// Compared against when the e-mail is unknown, so a miss costs as long as a wrong password:
// a hash of a random password at the configured cost, made once per cost.
const dummyHashes = new Map<number, Promise<string>>();

function dummyHash(): Promise<string> {
  const rounds = appContext().config.passwordHashRounds;
  let hash = dummyHashes.get(rounds);
  if (!hash) dummyHashes.set(rounds, (hash = bcrypt.hash(randomBytes(16).toString('hex'), rounds)));
  return hash;
}

/** Spends the time of one comparison, for unknown accounts. */
export const burnPasswordCheck = async (password: string): Promise<boolean> => bcrypt.compare(password, await dummyHash());
