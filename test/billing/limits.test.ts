/** effectiveLimits: a plan's limits raised by attached add-ons; unlimited stays unlimited. */
import { expect } from 'chai';
import { effectiveLimits } from '../../src/services/billing-limits.js';

const plan = { limits: { agents: 5, channel_accounts: 2, monthly_conversations: 1000, monthly_messages: 10_000, monthly_ai_replies: 500, storage_bytes: null } };

describe('effectiveLimits', () => {
  it('adds units x quantity of each add-on to the limit its kind raises', () => {
    const limits = effectiveLimits(plan, [
      { kind: 'extra_agents', units: 5 },
      { kind: 'extra_agents', units: 1, quantity: 3 },
      { kind: 'extra_channel_accounts', units: 1, quantity: 2 },
      { kind: 'extra_ai_replies', units: 1000 },
    ]);
    expect(limits).to.deep.equal({ agents: 13, channel_accounts: 4, monthly_conversations: 1000, monthly_messages: 10_000, monthly_ai_replies: 1500, storage_bytes: null });
  });

  it('leaves unlimited limits unlimited and the plan untouched', () => {
    const unlimited = { limits: { ...plan.limits, agents: null } };
    expect(effectiveLimits(unlimited, [{ kind: 'extra_agents', units: 5 }]).agents).to.equal(null);
    expect(effectiveLimits(plan, [])).to.deep.equal(plan.limits);
    expect(plan.limits.agents).to.equal(5);
  });
});
