/** An invoice as a PDF (pdfkit): number, dates, each line and the totals, amounts in minor units formatted per currency. */
import PDFDocument from 'pdfkit';
import type { BillingInvoice } from '../models/billing-invoice.js';
import { getInvoice } from './billing-invoices.js';

/**
 * `amount` minor units as text: grouped by thousands, with the currency's decimals (IDR and
 * other zero-decimal currencies none, most others two), from the integer's digits, never a float.
 */
export function formatMinor(amount: number, currency: string): string {
  const decimals = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  const digits = BigInt(Math.abs(amount)).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = decimals > 0 ? `.${digits.slice(digits.length - decimals)}` : '';
  return `${amount < 0 ? '-' : ''}${currency} ${whole}${fraction}`;
}

const day = (d: Date | null) => (d ? new Date(d).toISOString().slice(0, 10) : '-');

/** Renders the invoice to PDF bytes. */
export function renderInvoicePdf(inv: BillingInvoice): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: `Invoice ${inv.number ?? inv._id}` } });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    const money = (n: number) => formatMinor(n, inv.currency);
    doc.fontSize(20).text(`Invoice ${inv.number ?? '(draft)'}`);
    doc.moveDown(0.5).fontSize(10);
    doc.text(`Status: ${inv.status}`);
    doc.text(`Issued: ${day(inv.finalized_at)}`);
    doc.text(`Period: ${day(inv.period_start)} to ${day(inv.period_end)}`);
    doc.moveDown();
    for (const l of inv.lines) doc.text(`${l.description}: ${money(l.amount)}`);
    doc.moveDown();
    doc.text(`Subtotal: ${money(inv.subtotal)}`);
    doc.text(`Discount: ${money(inv.discount_total)}`);
    doc.text(`Tax (${inv.tax_rate_bps / 100}%): ${money(inv.tax_total)}`);
    doc.text(`Credit applied: ${money(inv.credit_applied)}`);
    doc.fontSize(12).text(`Total: ${money(inv.total)}`);
    doc.fontSize(10).text(`Paid: ${money(inv.amount_paid)}`);
    if (inv.amount_refunded > 0) doc.text(`Refunded: ${money(inv.amount_refunded)}`);
    doc.end();
  });
}

/** The tenant's invoice as a PDF, with a file name. */
export async function invoicePdf(tenantId: string, id: string): Promise<{ filename: string; bytes: Buffer }> {
  const inv = await getInvoice(tenantId, id);
  return { filename: `${inv.number ?? inv._id}.pdf`, bytes: await renderInvoicePdf(inv) };
}
