/**
 * The rules Meta applies to WhatsApp message templates, as pure functions: checked on create so
 * a template Meta would refuse is a 400 naming the field, not a round trip, and checked again on
 * every template send against the stored template, so a send with the wrong parameters is a 422
 * naming the problem instead of a failed message.
 * https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates/components
 * https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates
 */
import type { FieldIssue } from '../errors.js';
import type { TemplateComponent } from '../models/wa-template.js';

/** Buttons per template, and per kind, as Meta allows them. */
export const BUTTON_LIMITS = { total: 10, URL: 2, PHONE_NUMBER: 1, COPY_CODE: 1 } as const;

/** Every `{{...}}` in a text, as written. */
const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;

/** The variables of a text: their numbers in order of appearance, and any placeholder that is not `{{<n>}}`. */
export function variablesIn(text: string): { numbers: number[]; malformed: string[] } {
  const numbers: number[] = [];
  const malformed: string[] = [];
  for (const m of text.matchAll(PLACEHOLDER)) {
    const inner = m[1] as string;
    if (/^[1-9]\d{0,2}$/.test(inner)) numbers.push(Number(inner));
    else malformed.push(m[0]);
  }
  return { numbers, malformed };
}

/** How many variables a text has ({{1}}..{{n}}: n), assuming it passed the create rules. */
export const variableCount = (text: unknown): number => (typeof text === 'string' ? Math.max(0, ...variablesIn(text).numbers) : 0);

type Component = TemplateComponent & { type: string };
const typeOf = (c: TemplateComponent) => String(c.type ?? '').toUpperCase();
const exampleOf = (c: TemplateComponent) => (typeof c.example === 'object' && c.example !== null ? (c.example as Record<string, unknown>) : {});

/** Issues with a text's variable numbering: only {{1}}..{{n}}, each number from 1 to n used. */
function numberingIssues(text: string, field: string, max: number | null): FieldIssue[] {
  const { numbers, malformed } = variablesIn(text);
  const issues: FieldIssue[] = [];
  if (malformed.length) issues.push({ in: 'body', field, message: `uses ${malformed[0]}: variables are written {{1}}, {{2}}, ... in order` });
  const distinct = [...new Set(numbers)].sort((a, b) => a - b);
  const n = distinct.length;
  if (max !== null && n > max) issues.push({ in: 'body', field, message: `may have at most ${max} variable${max === 1 ? '' : 's'}; it has ${n}` });
  else if (n > 0 && distinct[n - 1] !== n) {
    const missing = Array.from({ length: distinct[n - 1] as number }, (_, i) => i + 1).find((k) => !distinct.includes(k));
    issues.push({ in: 'body', field, message: `numbers its variables ${distinct.map((k) => `{{${k}}}`).join(', ')}: they must run {{1}} to {{${n}}} without gaps ({{${missing}}} is missing)` });
  }
  return issues;
}

/** Issues with a component's example values against its variable count. */
function exampleIssues(values: unknown, variables: number, field: string, what: string): FieldIssue[] {
  const given = Array.isArray(values) ? values.length : 0;
  if (variables === 0 && values !== undefined) return [{ in: 'body', field, message: `gives example values but the ${what} has no variables` }];
  if (variables > 0 && given !== variables) {
    return [{ in: 'body', field, message: `must give ${variables} example value${variables === 1 ? '' : 's'}, one per variable of the ${what} ({{1}} to {{${variables}}}); it gives ${given}` }];
  }
  return [];
}

function headerIssues(c: Component, at: string): FieldIssue[] {
  const format = String(c.format ?? 'TEXT').toUpperCase();
  const example = exampleOf(c);
  if (format === 'TEXT') {
    if (typeof c.text !== 'string') return [{ in: 'body', field: `${at}.text`, message: 'is required for a TEXT header' }];
    const text = c.text;
    const issues = numberingIssues(text, `${at}.text`, 1);
    return issues.length ? issues : exampleIssues(example.header_text, variableCount(text), `${at}.example.header_text`, 'header');
  }
  if (c.text !== undefined) return [{ in: 'body', field: `${at}.text`, message: `is only for TEXT headers; a ${format} header has media` }];
  if (format === 'LOCATION') return [];
  const handles = example.header_handle;
  if (!Array.isArray(handles) || handles.length !== 1) {
    return [{ in: 'body', field: `${at}.example.header_handle`, message: `must hold one sample media handle (from Meta's resumable upload) for a ${format} header` }];
  }
  return [];
}

function bodyIssues(c: Component, at: string): FieldIssue[] {
  const text = String(c.text ?? '');
  const issues = numberingIssues(text, `${at}.text`, null);
  if (issues.length) return issues;
  const trimmed = text.trim();
  // Meta refuses these with subcode 2388299: a variable needs text around it.
  if (/^\{\{\d+\}\}/.test(trimmed) || /\{\{\d+\}\}$/.test(trimmed)) {
    return [{ in: 'body', field: `${at}.text`, message: 'may not start or end with a variable; put text before the first and after the last' }];
  }
  const rows = exampleOf(c).body_text;
  const row = Array.isArray(rows) ? rows[0] : rows;
  if (Array.isArray(rows) && rows.length > 1) return [{ in: 'body', field: `${at}.example.body_text`, message: 'must be one row of example values, as [["value 1", "value 2"]]' }];
  return exampleIssues(row, variableCount(text), `${at}.example.body_text${Array.isArray(rows) ? '.0' : ''}`, 'body');
}

function footerIssues(c: Component, at: string): FieldIssue[] {
  const { numbers, malformed } = variablesIn(String(c.text ?? ''));
  return numbers.length || malformed.length ? [{ in: 'body', field: `${at}.text`, message: 'may not have variables' }] : [];
}

function buttonsIssues(c: Component, at: string): FieldIssue[] {
  const buttons = (Array.isArray(c.buttons) ? c.buttons : []) as Record<string, unknown>[];
  const issues: FieldIssue[] = [];
  const kinds = buttons.map((b) => String(b.type ?? '').toUpperCase());
  if (buttons.length > BUTTON_LIMITS.total) issues.push({ in: 'body', field: `${at}.buttons`, message: `may hold at most ${BUTTON_LIMITS.total} buttons; it has ${buttons.length}` });
  for (const kind of ['URL', 'PHONE_NUMBER', 'COPY_CODE'] as const) {
    const count = kinds.filter((k) => k === kind).length;
    if (count > BUTTON_LIMITS[kind]) issues.push({ in: 'body', field: `${at}.buttons`, message: `may hold at most ${BUTTON_LIMITS[kind]} ${kind} button${BUTTON_LIMITS[kind] === 1 ? '' : 's'}; it has ${count}` });
  }
  const first = kinds.indexOf('QUICK_REPLY');
  const last = kinds.lastIndexOf('QUICK_REPLY');
  if (first >= 0 && kinds.slice(first, last + 1).some((k) => k !== 'QUICK_REPLY')) {
    issues.push({ in: 'body', field: `${at}.buttons`, message: 'must keep the QUICK_REPLY buttons together, before or after the other buttons' });
  }
  buttons.forEach((b, i) => {
    if (kinds[i] !== 'URL') return;
    const url = String(b.url ?? '');
    const field = `${at}.buttons.${i}.url`;
    const found = numberingIssues(url, field, 1);
    if (!found.length && variableCount(url) === 1 && !/\{\{1\}\}$/.test(url)) found.push({ in: 'body', field, message: 'may have its variable {{1}} only at the end of the URL' });
    issues.push(...(found.length ? found : exampleIssues(b.example, variableCount(url), `${at}.buttons.${i}.example`, 'URL')));
  });
  return issues;
}

const RULES: Record<string, (c: Component, at: string) => FieldIssue[]> = { HEADER: headerIssues, BODY: bodyIssues, FOOTER: footerIssues, BUTTONS: buttonsIssues };

/**
 * Everything Meta would refuse in a template's components (their fields already well-formed):
 * one BODY, at most one HEADER, FOOTER and BUTTONS, variables {{1}}..{{n}} without gaps, one
 * example value per variable, button limits. Fields are `components.<i>....`.
 */
export function templateIssues(components: TemplateComponent[]): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const seen = new Map<string, number>();
  components.forEach((c, i) => {
    const type = typeOf(c);
    if (seen.has(type)) issues.push({ in: 'body', field: `components.${i}.type`, message: `repeats ${type} (components.${seen.get(type)} is one already); a template has at most one of each` });
    else seen.set(type, i);
    issues.push(...(RULES[type]?.({ ...c, type }, `components.${i}`) ?? []));
  });
  if (!seen.has('BODY')) issues.push({ in: 'body', field: 'components', message: 'must include a BODY component' });
  return issues;
}

/** A send's component, as the messages API takes it (`type` header/body/button, `parameters`). */
type SendComponent = Record<string, unknown>;

/** The template a send names, as far as its parameters go. */
export interface StoredTemplateShape {
  name: string;
  language: string;
  components: TemplateComponent[];
  header_media_url: string | null;
}

/** A send's components checked against the stored template: completed (the stored header media filled in), or the problem. */
export type ParameterCheck = { ok: true; components: SendComponent[] } | { ok: false; problem: string };

const parametersOf = (c: SendComponent | undefined): Record<string, unknown>[] => (Array.isArray(c?.parameters) ? (c.parameters as Record<string, unknown>[]) : []);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A send's header component carrying a media header's media by link (`kind`: image, video or document). */
export const mediaHeaderComponent = (kind: string, link: string): SendComponent => ({ type: 'header', parameters: [{ type: kind, [kind]: { link } }] });

/** The send's header checked against the template's: a problem, the header to add (stored media), or null (fine as given). */
function headerCheck(template: StoredTemplateShape, header: TemplateComponent | undefined, given: SendComponent | undefined): string | SendComponent | null {
  const format = header ? String(header.format ?? 'TEXT').toUpperCase() : null;
  const wants = format === null ? 0 : format === 'TEXT' ? variableCount(header?.text) : 1;
  if (format === null || wants === 0) return given ? `template "${template.name}" has no header variable, but the send gives a header component` : null;
  const kind = format.toLowerCase();
  const isMedia = format !== 'TEXT' && format !== 'LOCATION';
  if (!given) {
    if (isMedia && template.header_media_url) return mediaHeaderComponent(kind, template.header_media_url);
    const why = format === 'TEXT' ? ' ({{1}})' : isMedia ? ', and no header media URL is stored for it' : '';
    return `the ${format} header of template "${template.name}" needs a ${kind} parameter${why}`;
  }
  const params = parametersOf(given);
  if (params.length !== 1 || String(params[0]?.type ?? '').toLowerCase() !== kind) return `the header of template "${template.name}" takes 1 ${kind} parameter; the send gives ${params.map((p) => String(p.type)).join(', ') || 'none'}`;
  return null;
}

const BUTTON_SUBTYPES: Record<string, string> = { URL: 'url', QUICK_REPLY: 'quick_reply', COPY_CODE: 'copy_code', OTP: 'url' };

/** Problems with the send's button components. */
function buttonsProblem(template: StoredTemplateShape, buttons: Record<string, unknown>[], given: SendComponent[]): string | null {
  const covered = new Set<number>();
  for (const g of given) {
    const index = Number(g.index);
    const button = buttons[index];
    if (!Number.isInteger(index) || !button) return `template "${template.name}" has ${plural(buttons.length, 'button')}; a button component has index ${String(g.index)}`;
    const kind = String(button.type ?? '').toUpperCase();
    if (String(g.sub_type ?? '').toLowerCase() !== BUTTON_SUBTYPES[kind]) return `button ${index} of template "${template.name}" is ${kind}; its component needs sub_type "${BUTTON_SUBTYPES[kind] ?? 'none'}", not "${String(g.sub_type)}"`;
    const wants = kind === 'URL' ? variableCount(button.url) : 1;
    if (parametersOf(g).length !== wants) return `button ${index} of template "${template.name}" takes ${plural(wants, 'parameter')}; the send gives ${parametersOf(g).length}`;
    covered.add(index);
  }
  const missing = buttons.findIndex((b, i) => !covered.has(i) && ((String(b.type).toUpperCase() === 'URL' && variableCount(b.url) > 0) || String(b.type).toUpperCase() === 'COPY_CODE'));
  return missing >= 0 ? `button ${missing} of template "${template.name}" needs a parameter (a button component with index ${missing})` : null;
}

/**
 * Checks a send's components against the stored template: the body takes exactly as many text
 * parameters as it has variables, a header with a variable or media takes one (the stored header
 * media URL fills a missing media one), URL buttons with a variable and copy-code buttons take
 * theirs; nothing else may be given.
 */
export function checkTemplateParameters(template: StoredTemplateShape, sent: SendComponent[]): ParameterCheck {
  const byType = (t: string) => template.components.find((c) => typeOf(c) === t);
  const kindOf = (c: SendComponent) => String(c.type ?? '').toLowerCase();
  const unknown = sent.find((c) => !['header', 'body', 'button'].includes(kindOf(c)));
  if (unknown) return { ok: false, problem: `a send's components are header, body or button; "${String(unknown.type)}" is none of them` };
  for (const kind of ['header', 'body']) {
    if (sent.filter((c) => kindOf(c) === kind).length > 1) return { ok: false, problem: `gives more than one ${kind} component` };
  }
  const body = sent.find((c) => kindOf(c) === 'body');
  const wants = variableCount(byType('BODY')?.text);
  const given = parametersOf(body);
  if (given.length !== wants) {
    const vars = wants ? ` ({{1}} to {{${wants}}})` : '';
    return { ok: false, problem: `the body of template "${template.name}" (${template.language}) takes ${plural(wants, 'parameter')}${vars}; the send gives ${given.length}` };
  }
  const empty = given.findIndex((p) => String(p.type ?? 'text').toLowerCase() === 'text' && !(typeof p.text === 'string' && p.text.trim()));
  if (empty >= 0) return { ok: false, problem: `body parameter ${empty + 1} is empty; WhatsApp refuses empty parameters` };
  const header = headerCheck(template, byType('HEADER'), sent.find((c) => kindOf(c) === 'header'));
  if (typeof header === 'string') return { ok: false, problem: header };
  const buttons = (byType('BUTTONS')?.buttons ?? []) as Record<string, unknown>[];
  const buttonProblem = buttonsProblem(template, buttons, sent.filter((c) => kindOf(c) === 'button'));
  if (buttonProblem) return { ok: false, problem: buttonProblem };
  return { ok: true, components: header ? [header, ...sent] : sent };
}
