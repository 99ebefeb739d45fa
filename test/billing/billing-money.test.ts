/** Billing money arithmetic and invoice numbering: integers only, half up, and numbers without gaps under concurrency. */
import { expect } from 'chai';
import { newId } from '../../src/ids.js';
import { billingInvoices, BillingInvoiceModel, type InvoiceLine } from '../../src/models/billing-invoice.js';
import { buildInvoice, finalizeInvoice, invoiceNumberOf } from '../../src/services/billing-invoices.js';
import { formatMinor, renderInvoicePdf } from '../../src/services/billing-pdf.js';
import { localDaysBetween, mulDivHalfUp, periodFrom, prorate, taxOf } from '../../src/services/billing-proration.js';
import { PDFParse } from 'pdf-parse';

const line = (description: string, amount: number, kind: InvoiceLine['kind'] = 'plan'): InvoiceLine => ({ kind, description, quantity: 1, unit_amount: amount, amount, period_start: null, period_end: null });

/** Exact half-up of a x n / d, computed apart from the code under test. */
const exact = (a: bigint, n: bigint, d: bigint) => Number((a * n * 2n + d) / (2n * d));

describe('billing money', () => {
  it('prorates 149,900 IDR for 17 of 31 days to 82,203 exactly', () => {
    expect(prorate(149_900, 17, 31)).to.equal(exact(149_900n, 17n, 31n)).and.to.equal(82_203);
    expect(prorate(149_900, 31, 31)).to.equal(149_900);
    expect(prorate(149_900, 0, 31)).to.equal(0);
  });

  it('taxes half up where a float rounds the other way (35% of 90 is 31.5 -> 32)', () => {
    expect(Math.round(90 * 0.35)).to.equal(31); // the float answer this code must not give
    expect(taxOf(90, 3_500)).to.equal(32);
    expect(mulDivHalfUp(-90, 3_500, 10_000)).to.equal(-32);
    expect(taxOf(2 ** 53 - 1, 1_100)).to.equal(exact(2n ** 53n - 1n, 1_100n, 10_000n));
  });

  it('totals three 0.10-like items to exactly 0.30 (30 minor units), taxed and formatted from integers', () => {
    expect(0.1 + 0.1 + 0.1).to.not.equal(0.3);
    const inv = buildInvoice(
      { id: newId(), tenantId: newId(), subscriptionId: newId(), planId: newId(), source: 'test', currency: 'USD', lines: [line('a', 10), line('b', 10), line('c', 10)], creditAvailable: 0, periodStart: null, periodEnd: null },
      1_100,
    );
    expect(inv.subtotal).to.equal(30);
    expect(inv.tax_total).to.equal(3); // 3.3 -> 3
    expect(inv.total).to.equal(33);
    expect(formatMinor(inv.subtotal, 'USD')).to.equal('USD 0.30');
    expect(formatMinor(149_900, 'IDR')).to.equal('IDR 149,900');
    expect(formatMinor(-1_234_567, 'USD')).to.equal('-USD 12,345.67');
  });

  it('applies discounts before tax and credit after, never below zero', () => {
    const inv = buildInvoice(
      { id: newId(), tenantId: newId(), subscriptionId: newId(), planId: newId(), source: 'test', currency: 'IDR', lines: [line('plan', 149_900), line('coupon', -14_990, 'discount')], creditAvailable: 200_000, periodStart: null, periodEnd: null },
      1_100,
    );
    expect(inv.discount_total).to.equal(-14_990);
    expect(inv.tax_total).to.equal(exact(134_910n, 1_100n, 10_000n));
    expect(inv.credit_applied).to.equal(-(134_910 + inv.tax_total));
    expect(inv.total).to.equal(0);
  });

  it('computes periods in the tenant’s zone: Jan 31 + 1 month is Feb 28, and days count local calendar days', () => {
    const start = new Date('2027-01-31T03:00:00Z'); // 10:00 in Jakarta
    const { end } = periodFrom(start, 'monthly', 'Asia/Jakarta');
    expect(end.toISOString()).to.equal('2027-02-28T03:00:00.000Z');
    expect(localDaysBetween(start, end, 'Asia/Jakarta')).to.equal(28);
    // 23:30 WIB on Dec 1 is still Dec 1 in Jakarta but Dec 1 16:30 UTC.
    expect(localDaysBetween(new Date('2026-12-01T16:30:00Z'), new Date('2027-01-01T03:00:00Z'), 'Asia/Jakarta')).to.equal(31);
  });

  it('numbers 20 concurrent finalizations without gaps or duplicates, and a second finalization changes nothing', async function () {
    this.timeout(30_000);
    const tenantId = newId();
    const ids = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const draft = buildInvoice({ id: newId(), tenantId, subscriptionId: newId(), planId: newId(), source: 'test', currency: 'IDR', lines: [line('plan', 1_000)], creditAvailable: 0, periodStart: null, periodEnd: null }, 0);
        await billingInvoices.insert(draft);
        return draft._id;
      }),
    );
    const finalized = await Promise.all(ids.map((id) => finalizeInvoice(id)));
    const seqs = finalized.map((i) => i.sequence as number).sort((a, b) => a - b);
    expect(new Set(seqs).size).to.equal(20);
    expect(seqs[19]! - seqs[0]!).to.equal(19);
    for (const inv of finalized) expect(inv.number).to.equal(invoiceNumberOf(inv.sequence as number));
    expect(finalized.every((i) => i.status === 'open')).to.equal(true);
    const again = await finalizeInvoice(ids[0]!);
    expect(again.sequence).to.equal(finalized[0]!.sequence);
    // Across the whole run's database, numbers are 1..N with none missing.
    const all = (await BillingInvoiceModel.find({ sequence: { $ne: null } }, { sequence: 1 }).lean().exec()).map((d) => d.sequence as number).sort((a, b) => a - b);
    expect(all).to.deep.equal(Array.from({ length: all.length }, (_, i) => i + 1));
  });

  it('renders the invoice PDF with its lines and totals as text', async () => {
    const inv = buildInvoice({ id: newId(), tenantId: newId(), subscriptionId: newId(), planId: newId(), source: 'test', currency: 'IDR', lines: [line('Pro (monthly)', 149_900)], creditAvailable: 0, periodStart: null, periodEnd: null }, 1_100);
    const text = (await new PDFParse({ data: await renderInvoicePdf({ ...inv, number: 'INV-000777', created_at: new Date(), updated_at: new Date() }) }).getText()).text;
    expect(text).to.include('Invoice INV-000777');
    expect(text).to.include('Pro (monthly): IDR 149,900');
    expect(text).to.include(`Tax (11%): IDR ${(16_489).toLocaleString('en')}`);
    expect(text).to.include('Total: IDR 166,389');
  });
});
