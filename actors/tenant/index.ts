/**
 * The tenant actor: the single writer of tenant-wide state (ARCHITECTURE invariant 4).
 * Changes whose correctness rests on reading first (working hours, time zone, the last-admin
 * guard, plan limits) run only here, so two processes can never interleave a read-modify-write of them.
 *
 * To add a message: write its handler in a file beside this one and add it to `handlers`.
 */
import { appContext } from '../../src/context.js';
import type { ActorBehaviour } from '../runtime.js';
import { adminHandlers } from './admins.js';
import { assignmentHandlers } from './assignment.js';
import { eventHandlers } from './events.js';
import { integrationHandlers } from './integrations.js';
import { planLimitHandlers } from './plan-limits.js';
import { initialTenantState, type TenantState } from './state.js';
import { workingHoursHandlers } from './working-hours.js';

/** A handler of one tenant message type: (tenant id, payload, the actor's state) -> reply. */
type Handler = (tenantId: string, payload: never, state: TenantState) => Promise<unknown>;

const handlers = {
  ...adminHandlers,
  ...assignmentHandlers,
  ...eventHandlers,
  ...integrationHandlers,
  ...planLimitHandlers,
  ...workingHoursHandlers,
} satisfies Record<string, Handler>;

/** Every message type the tenant actor understands. */
export type TenantMessageType = keyof typeof handlers;

/** The payload of a message type. */
export type TenantPayload<T extends TenantMessageType> = Parameters<(typeof handlers)[T]>[1];

/** The reply of a message type. */
export type TenantReply<T extends TenantMessageType> = Awaited<ReturnType<(typeof handlers)[T]>>;

interface TenantMessage {
  type: TenantMessageType;
  payload: unknown;
}

/** The behaviour registered with the ActorSystem. */
export const tenantActor: ActorBehaviour<TenantState, TenantMessage, unknown> = {
  kind: 'tenant',
  init: async (id) => initialTenantState(id),
  async receive(state, msg) {
    const handler = handlers[msg.type] as unknown as (tenantId: string, payload: unknown, state: TenantState) => Promise<unknown>;
    if (!handler) throw new Error(`tenant actor: unknown message type ${String(msg.type)}`);
    return { state, reply: await handler(state.tenantId, msg.payload, state) };
  },
};

/** Asks the tenant's actor (wherever it lives) to apply one change, and waits for the reply. */
export async function askTenant<T extends TenantMessageType>(
  tenantId: string,
  type: T,
  payload: TenantPayload<T>,
): Promise<TenantReply<T>> {
  return (await appContext().actors.ask('tenant', tenantId, { type, payload })) as TenantReply<T>;
}
