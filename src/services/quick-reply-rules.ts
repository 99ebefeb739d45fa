/**
 * What a quick reply may hold: its shortcut, title and content, and the fixed catalogue of
 * `{{variables}}` its content may use. The API's schemas and the CSV import check rows with the
 * same rules, so a row the import accepts is exactly a body POST would accept.
 */
import { z } from 'zod';

/** Every variable a content may use, with what it is filled with when the reply is used. */
export const QUICK_REPLY_VARIABLES = {
  'contact.name': 'The customer’s name',
  'contact.phone': 'The customer’s phone number',
  'contact.email': 'The customer’s e-mail address',
  'agent.name': 'The name of the agent using the reply',
  'agent.email': 'The e-mail address of the agent using the reply',
  'conversation.id': 'The conversation’s id',
  'conversation.channel': 'The conversation’s channel (whatsapp, instagram, messenger, email)',
  'organization.name': 'The organization’s name',
} as const satisfies Record<string, string>;

/** A catalogued variable name. */
export type QuickReplyVariable = keyof typeof QUICK_REPLY_VARIABLES;

const VARIABLE_NAMES = Object.keys(QUICK_REPLY_VARIABLES) as QuickReplyVariable[];

const isVariable = (name: string): name is QuickReplyVariable => Object.hasOwn(QUICK_REPLY_VARIABLES, name);

/** `{{ name }}`, spaces inside the braces allowed. */
const TOKEN = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** The variables a content uses, in order of first use (unknown names included). */
export function variablesOf(content: string): string[] {
  return [...new Set([...content.matchAll(TOKEN)].map((m) => m[1] ?? ''))];
}

/**
 * The first problem with a content's placeholders, or null: a name outside the catalogue, or a
 * `{{` that never closes (which would reach the customer as raw braces).
 */
export function variableProblem(content: string): string | null {
  for (const name of variablesOf(content)) {
    if (!isVariable(name)) return `uses the unknown variable {{${name}}}; known variables: ${VARIABLE_NAMES.join(', ')}`;
  }
  const open = content.replace(TOKEN, '').indexOf('{{');
  if (open !== -1) return 'has a {{ that is not closed by }}';
  return null;
}

/** The values a use fills in (null: unknown for this conversation). */
export type VariableValues = Record<QuickReplyVariable, string | null>;

/** The content with every variable filled; `unfilled` names those that had no value (left empty). */
export function renderContent(content: string, values: VariableValues): { text: string; unfilled: string[] } {
  const unfilled = new Set<string>();
  const text = content.replace(TOKEN, (_, name: string) => {
    const value = isVariable(name) ? values[name] : null;
    if (value === null || value === '') unfilled.add(name);
    return value ?? '';
  });
  return { text, unfilled: [...unfilled] };
}

/**
 * A shortcut as agents type it after `/`: letters, digits, `_`, `-` and `.`, no spaces; a
 * leading `/` is dropped.
 */
export const Shortcut = z
  .string()
  .trim()
  .transform((s) => s.replace(/^\//, ''))
  .pipe(
    z
      .string()
      .min(1, 'must not be empty')
      .max(50)
      .regex(/^[\p{L}\p{N}_.-]+$/u, 'may hold only letters, digits, _ - and . (no spaces)'),
  )
  .describe('Typed after `/` in the composer, e.g. `salam`; unique per scope owner, without case');

/** A title shown next to the shortcut. */
export const Title = z.string().trim().min(1, 'must not be empty').max(120);

/** The text sent, with catalogued `{{variables}}`. */
export const Content = z
  .string()
  .max(4096, 'must be at most 4096 characters (WhatsApp’s limit for one text message)')
  .refine((c) => c.trim().length > 0, 'must not be empty')
  .superRefine((c, ctx) => {
    const problem = variableProblem(c);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe(`Variables: ${VARIABLE_NAMES.map((n) => `{{${n}}}`).join(', ')}`);

/** A scope. */
export const Scope = z
  .enum(['tenant', 'division', 'personal'])
  .describe('tenant: everyone; division: members of division_id; personal: only the agent who made it');
