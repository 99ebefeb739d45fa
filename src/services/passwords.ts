/** Password hashing with bcrypt (bcryptjs: no native build step on fresh machines). */
import bcrypt from 'bcryptjs';
import { appContext } from '../context.js';

/** The bcrypt hash of a password at the configured cost. */
export const hashPassword = (password: string): Promise<string> =>
  bcrypt.hash(password, appContext().config.passwordHashRounds);

/** True when the password matches the hash. */
export const verifyPassword = (password: string, hash: string): Promise<boolean> => bcrypt.compare(password, hash);

// Compared against when the e-mail is unknown, so a miss costs as long as a wrong password.
const DUMMY_HASH = '$2b$10$CwTycUXWue0Thq9StjUM0uJ8.8ZbYQ0N1eTO2K3l5rHMeZ8M7M9n6';

/** Spends the time of one comparison, for unknown accounts. */
export const burnPasswordCheck = (password: string): Promise<boolean> => bcrypt.compare(password, DUMMY_HASH);
