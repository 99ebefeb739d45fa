/**
 * A local HTTP server speaking the Stripe API's shapes (form-encoded requests, Bearer secret key,
 * `{ error: { type, code, message } }` errors, Idempotency-Key replays) for customers and
 * payment-method attach/detach and off-session payment intents (created and confirmed at once).
 * Known tokens are Stripe's test ones: pm_card_visa (attaches, charges succeed),
 * pm_card_chargeCustomerFail (attaches, every charge is declined with card_declined) and
 * pm_card_chargeDeclined (declined already on attach).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The running fake. */
export interface FakeStripe {
  url: string;
  secretKey: string;
  /** Every request, in order: method, path, form fields, idempotency key. */
  requests: { method: string; path: string; form: Record<string, string>; idempotencyKey: string | null }[];
  /** Customer id each attached payment method is on (null: detached). */
  attachments: Map<string, string | null>;
  close(): Promise<void>;
}

const CARDS: Record<string, { brand: string; last4: string }> = { pm_card_visa: { brand: 'visa', last4: '4242' }, pm_card_chargeCustomerFail: { brand: 'visa', last4: '0341' } };
const DECLINES_CHARGES = new Set(['pm_card_chargeCustomerFail']);

/** Starts the fake on a free port. */
export async function startFakeStripe(secretKey = 'sk_test_fake_0123456789'): Promise<FakeStripe> {
  const requests: FakeStripe['requests'] = [];
  const attachments = new Map<string, string | null>();
  const replays = new Map<string, { status: number; body: unknown }>();
  let customers = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(raw));
      const key = (req.headers['idempotency-key'] as string | undefined) ?? null;
      const path = req.url ?? '';
      requests.push({ method: req.method ?? '', path, form, idempotencyKey: key });
      const send = (status: number, body: unknown) => {
        if (key) replays.set(key, { status, body });
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      const fail = (status: number, type: string, code: string, message: string) => send(status, { error: { type, code, message } });
      if (req.headers.authorization !== `Bearer ${secretKey}`) return fail(401, 'invalid_request_error', 'api_key_invalid', 'Invalid API Key provided');
      const replay = key ? replays.get(key) : undefined;
      if (replay) return res.writeHead(replay.status, { 'content-type': 'application/json', 'idempotent-replayed': 'true' }).end(JSON.stringify(replay.body));
      if (req.method === 'POST' && path === '/v1/customers') return send(200, { id: `cus_fake${++customers}`, object: 'customer', metadata: { tenant_id: form['metadata[tenant_id]'] } });
      if (req.method === 'POST' && path === '/v1/payment_intents') {
        const intent = { id: `pi_fake${requests.length}`, object: 'payment_intent', amount: Number(form.amount), currency: form.currency, customer: form.customer, payment_method: form.payment_method };
        if (!form.payment_method || attachments.get(form.payment_method) !== form.customer) return fail(400, 'invalid_request_error', 'payment_method_unattached', 'The payment method is not attached to this customer');
        if (DECLINES_CHARGES.has(form.payment_method)) {
          return send(402, { error: { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.', payment_intent: { ...intent, status: 'requires_payment_method' } } });
        }
        return send(200, { ...intent, status: 'succeeded' });
      }
      const m = /^\/v1\/payment_methods\/([^/]+)\/(attach|detach)$/.exec(path);
      if (req.method === 'POST' && m) {
        const id = decodeURIComponent(m[1] as string);
        if (id === 'pm_card_chargeDeclined') return fail(402, 'card_error', 'card_declined', 'Your card was declined.');
        const card = CARDS[id];
        if (!card) return fail(404, 'invalid_request_error', 'resource_missing', `No such PaymentMethod: '${id}'`);
        attachments.set(id, m[2] === 'attach' ? (form.customer ?? null) : null);
        return send(200, { id, object: 'payment_method', type: 'card', customer: attachments.get(id), card: { ...card, exp_month: 12, exp_year: 2030 } });
      }
      return fail(404, 'invalid_request_error', 'resource_missing', `Unrecognized request URL (${req.method}: ${path})`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    secretKey,
    requests,
    attachments,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
