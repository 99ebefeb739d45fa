import { expect } from 'chai';
import type { Principal } from '../../src/auth/principal.js';
import { canReceive, dataFor, viewOf } from '../../src/realtime/visibility.js';

const viewer = (permissions: string[], divisionIds: string[] = []) => ({
  principal: { tenantId: 't', userId: 'me', userName: 'Me', roleId: 'r', permissions: new Set(permissions), via: 'jwt' } as Principal,
  divisionIds: new Set(divisionIds),
});
const conv = (divisionId: string | null, assigneeId: string | null) => ({ scope: 'conversation' as const, conversationId: 'c', divisionId, assigneeId });

describe('canReceive', () => {
  it('sends tenant-wide events to every member', () => {
    expect(canReceive(viewer([]), { scope: 'tenant', permission: null })).to.equal(true);
  });
  it('sends a tenant-wide event that names a permission whole to its holders, reduced or not at all to others', () => {
    const presence = { scope: 'tenant' as const, permission: 'agents.view' as const, reduced: { id: 'a' } };
    const contact = { scope: 'tenant' as const, permission: 'contacts.view' as const };
    expect(viewOf(viewer(['agents.view']), presence)).to.equal('full');
    expect(viewOf(viewer(['contacts.view']), presence)).to.equal('reduced');
    expect(dataFor({ data: { id: 'a', email: 'a@x' }, audience: presence }, 'reduced')).to.deep.equal({ id: 'a' });
    expect(viewOf(viewer(['contacts.view']), contact)).to.equal('full');
    expect(viewOf(viewer(['agents.view', 'conversations.view_all']), contact)).to.equal(null);
  });
  it('sends every conversation event to holders of conversations.view_all', () => {
    expect(canReceive(viewer(['conversations.view_all']), conv('d1', 'someone'))).to.equal(true);
  });
  it('sends an agent their own conversations and their divisions’ conversations only', () => {
    const agent = viewer(['conversations.view'], ['d1']);
    expect(canReceive(agent, conv('d2', 'me'))).to.equal(true);
    expect(canReceive(agent, conv('d1', 'someone'))).to.equal(true);
    expect(canReceive(agent, conv('d2', 'someone'))).to.equal(false);
    expect(canReceive(agent, conv(null, null))).to.equal(true);
  });
  it('sends no conversation event to a member without conversations.view', () => {
    expect(canReceive(viewer([], ['d1']), conv('d1', 'me'))).to.equal(false);
  });
  it('also sends one event to the agents and divisions it names, still only with conversations.view', () => {
    const agent = viewer(['conversations.view'], ['d1']);
    expect(canReceive(agent, { ...conv('d2', 'someone'), alsoAgentIds: ['other', 'me'] })).to.equal(true);
    expect(canReceive(agent, { ...conv('d2', 'someone'), alsoDivisionIds: ['d3', 'd1'] })).to.equal(true);
    expect(canReceive(agent, { ...conv('d2', 'someone'), alsoAgentIds: ['other'], alsoDivisionIds: ['d3'] })).to.equal(false);
    expect(canReceive(agent, { ...conv('d2', 'someone'), alsoAgentIds: [], alsoDivisionIds: [] })).to.equal(false);
    expect(canReceive(viewer([], ['d1']), { ...conv('d2', 'someone'), alsoAgentIds: ['me'], alsoDivisionIds: ['d1'] })).to.equal(false);
  });
});
