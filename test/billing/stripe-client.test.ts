/** The card provider client against a local server speaking the Stripe API: customers, attach/detach, declines, idempotency. */
import { expect } from 'chai';
import { AppError } from '../../src/errors.js';
import { newId } from '../../src/ids.js';
import { StripeClient } from '../../src/services/payment-providers/stripe.js';
import { startFakeStripe, type FakeStripe } from '../support/fake-stripe.js';

describe('Stripe-compatible card provider', () => {
  let fake: FakeStripe;
  before(async () => {
    fake = await startFakeStripe();
  });
  after(() => fake.close());

  it('creates a tenant’s customer once (Idempotency-Key), attaches a card token and detaches it', async () => {
    const client = new StripeClient({ apiUrl: fake.url, secretKey: fake.secretKey });
    const tenantId = newId();
    const customer = await client.createCustomer(tenantId);
    expect(await client.createCustomer(tenantId)).to.equal(customer);
    const card = await client.attach('pm_card_visa', customer);
    expect(card).to.deep.equal({ id: 'pm_card_visa', brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2030 });
    expect(fake.attachments.get('pm_card_visa')).to.equal(customer);
    const attach = fake.requests.find((r) => r.path === '/v1/payment_methods/pm_card_visa/attach');
    expect(attach?.form).to.deep.equal({ customer });
    await client.detach('pm_card_visa');
    expect(fake.attachments.get('pm_card_visa')).to.equal(null);
  });

  it('turns a decline and an unknown token into 422s with the provider’s message, a wrong key too, and an unreachable provider into 503', async () => {
    const client = new StripeClient({ apiUrl: fake.url, secretKey: fake.secretKey });
    const declined = await client.attach('pm_card_chargeDeclined', 'cus_x').catch((e: unknown) => e);
    expect(declined).to.be.instanceOf(AppError);
    expect((declined as AppError).status).to.equal(422);
    expect((declined as AppError).message).to.include('card_declined');
    expect(((await client.attach('pm_nope', 'cus_x').catch((e: unknown) => e)) as AppError).message).to.include('No such PaymentMethod');
    const wrongKey = new StripeClient({ apiUrl: fake.url, secretKey: 'sk_test_wrong_key' });
    expect(((await wrongKey.createCustomer(newId()).catch((e: unknown) => e)) as AppError).status).to.equal(422);
    const down = new StripeClient({ apiUrl: 'http://127.0.0.1:1', secretKey: fake.secretKey });
    expect(((await down.createCustomer(newId()).catch((e: unknown) => e)) as AppError).status).to.equal(503);
  });
});
