/**
 * Holds the server to its OpenAPI document while tests run: every answer a route gives is
 * checked against the statuses the same declaration documents (openapi.ts answerStatuses), and
 * any other is remembered with its route. The test run fails at its end naming each one, so
 * the document's status lists stay true as routes and services change (Schemathesis finds the
 * same class of drift, but only for inputs it happens to generate).
 */
import type { RouteDef } from './route.js';
import { answerStatuses } from './openapi.js';

const undocumented = new Set<string>();
const statusesByRoute = new WeakMap<RouteDef, Set<number>>();

/** Notes `status` if `def` does not document it. */
export function checkAnswer(def: RouteDef, status: number): void {
  let statuses = statusesByRoute.get(def);
  if (!statuses) statusesByRoute.set(def, (statuses = answerStatuses(def)));
  if (!statuses.has(status)) undocumented.add(`${def.method.toUpperCase()} ${def.path} answered ${status}`);
}

/** The undocumented answers noted so far, sorted. */
export const undocumentedAnswers = (): string[] => [...undocumented].sort();
