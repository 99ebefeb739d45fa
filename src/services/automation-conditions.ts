/**
 * Condition evaluation for automation rules: what a rule may look at (conversation, contact,
 * message, tenant and event fields, plus computed ones: working hours now, minutes since the
 * customer last wrote), the operators, and the checks a rule's conditions pass on write.
 * Regular expressions run on RE2 (re2js: linear time, no backtracking), so a rule's pattern
 * cannot stall the worker on a hostile message; a pattern RE2 cannot compile is refused on write.
 */
import { RE2JS } from 're2js';
import { CONDITION_OPS, type Condition, type ConditionGroups } from '../models/automation-rule.js';
import type { RunCondition } from '../models/automation-run.js';
import type { FieldIssue } from '../errors.js';

/** What a rule's conditions are evaluated against (built by the worker, or given to a dry run). */
export interface EvaluationContext {
  event: { type: string; [key: string]: unknown };
  conversation: Record<string, unknown> | null;
  contact: Record<string, unknown> | null;
  message: Record<string, unknown> | null;
  tenant: Record<string, unknown>;
}

/** Fields a condition may name; `contact.attributes.<name>` and `payload.<path>` reach further. */
export const CONDITION_FIELDS = [
  'event.type',
  'conversation.id',
  'conversation.status',
  'conversation.channel',
  'conversation.division_id',
  'conversation.assignee_id',
  'conversation.tags',
  'conversation.message_count',
  'conversation.unread_count',
  'conversation.created_at',
  'conversation.is_new',
  'conversation.within_working_hours',
  'conversation.minutes_since_last_customer_message',
  'contact.id',
  'contact.name',
  'contact.phone',
  'contact.email',
  'contact.tags',
  'message.text',
  'message.type',
  'message.direction',
  'message.sender_type',
  'tenant.id',
  'tenant.timezone',
  'tenant.within_working_hours',
  'tenant.local_time',
  'tenant.weekday',
] as const;

const OPEN_PREFIXES = ['contact.attributes.', 'payload.'];

/** Longest pattern accepted (RE2 is linear in the input, but a huge program is still a cost). */
const MAX_PATTERN = 500;

const isKnownField = (field: string) => (CONDITION_FIELDS as readonly string[]).includes(field) || OPEN_PREFIXES.some((p) => field.startsWith(p) && field.length > p.length);

/** The compiled pattern, or the reason RE2 refuses it. */
function compilePattern(pattern: string): RE2JS | string {
  if (pattern.length > MAX_PATTERN) return `the pattern is longer than ${MAX_PATTERN} characters`;
  try {
    return RE2JS.compile(pattern);
  } catch (err) {
    return `the pattern is not a valid RE2 expression (no backreferences or lookaround): ${(err as Error).message}`;
  }
}

/** What is wrong with one condition, or null. */
function conditionProblem(c: Condition): string | null {
  if (!isKnownField(c.field)) return `unknown field "${c.field}"; use one of ${CONDITION_FIELDS.join(', ')}, contact.attributes.<name> or payload.<path>`;
  if (!(CONDITION_OPS as readonly string[]).includes(c.op)) return `unknown operator "${String(c.op)}"; use one of ${CONDITION_OPS.join(', ')}`;
  const v = c.value;
  switch (c.op) {
    case 'exists':
    case 'not_exists':
      return v === undefined || v === null ? null : `${c.op} takes no value`;
    case 'in':
    case 'not_in':
      return Array.isArray(v) && v.length > 0 ? null : `${c.op} needs a non-empty array value`;
    case 'gt':
    case 'lt':
      return typeof v === 'number' || (typeof v === 'string' && !Number.isNaN(Date.parse(v))) ? null : `${c.op} needs a number or an RFC 3339 time`;
    case 'regex': {
      if (typeof v !== 'string' || v.length === 0) return 'regex needs a pattern string';
      const compiled = compilePattern(v);
      return typeof compiled === 'string' ? compiled : null;
    }
    default:
      return v === undefined ? `${c.op} needs a value` : null;
  }
}

/** Issues of every bad condition, each naming its group and index (conditions.all[2]). */
export function conditionIssues(groups: ConditionGroups): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const group of ['all', 'any'] as const) {
    groups[group].forEach((c, i) => {
      const problem = conditionProblem(c);
      if (problem) issues.push({ in: 'body', field: `conditions.${group}[${i}]`, message: problem });
    });
  }
  return issues;
}

/** The value at a dotted path of the context (undefined when absent). */
export function fieldValue(ctx: EvaluationContext, field: string): unknown {
  const [root, ...rest] = field.split('.');
  let at: unknown = root === 'payload' ? ctx.event.payload : (ctx as unknown as Record<string, unknown>)[root ?? ''];
  for (const key of rest) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);

/** Loose equality: strings compare without case; an array field equals when it holds the value. */
function same(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(actual)) return actual.some((a) => same(a, expected));
  if (typeof actual === 'string' && typeof expected === 'string') return actual.toLowerCase() === expected.toLowerCase();
  return actual === expected;
}

const comparable = (v: unknown): number | null => {
  if (typeof v === 'number') return v;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    if (!Number.isNaN(n)) return n;
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return t;
  }
  return null;
};

/** Whether one condition holds for a value. */
function holds(c: Condition, actual: unknown): boolean {
  const present = actual !== undefined && actual !== null && !(Array.isArray(actual) && actual.length === 0) && actual !== '';
  switch (c.op) {
    case 'exists':
      return present;
    case 'not_exists':
      return !present;
    case 'equals':
      return same(actual, c.value);
    case 'not_equals':
      return !same(actual, c.value);
    case 'contains':
    case 'not_contains': {
      const found = Array.isArray(actual) ? same(actual, c.value) : typeof actual === 'string' && String(lower(actual)).includes(String(lower(c.value)));
      return c.op === 'contains' ? found : !found;
    }
    case 'in':
    case 'not_in': {
      const found = Array.isArray(c.value) && c.value.some((v) => same(actual, v));
      return c.op === 'in' ? found : !found;
    }
    case 'gt':
    case 'lt': {
      const a = comparable(actual);
      const b = comparable(c.value);
      if (a === null || b === null) return false;
      return c.op === 'gt' ? a > b : a < b;
    }
    case 'regex': {
      const compiled = compilePattern(String(c.value));
      if (typeof compiled === 'string' || !present) return false;
      const texts = Array.isArray(actual) ? actual.map(String) : [String(actual)];
      return texts.some((t) => compiled.matcher(t).find());
    }
  }
}

/** JSON-safe copy of a seen value for the run record. */
const seen = (v: unknown): unknown => (v === undefined ? null : v instanceof Date ? v.toISOString() : v);

/** Every condition evaluated, and whether the groups hold (all of `all`, and one of `any` when it has some). */
export function evaluateConditions(groups: ConditionGroups, ctx: EvaluationContext): { matched: boolean; conditions: RunCondition[] } {
  const conditions: RunCondition[] = [];
  for (const group of ['all', 'any'] as const) {
    for (const c of groups[group]) {
      const actual = fieldValue(ctx, c.field);
      conditions.push({ group, field: c.field, op: c.op, expected: c.value ?? null, actual: seen(actual), result: holds(c, actual) });
    }
  }
  const all = conditions.filter((c) => c.group === 'all').every((c) => c.result);
  const anyGroup = conditions.filter((c) => c.group === 'any');
  return { matched: all && (anyGroup.length === 0 || anyGroup.some((c) => c.result)), conditions };
}
