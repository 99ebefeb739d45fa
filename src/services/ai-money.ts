/** Money in integer minor units as an AI agent writes it to a customer ("Rp15.000", "$12.50"). */

/** Digits after the decimal point of a currency (IDR 0, USD 2, KWD 3), as ISO 4217 and Intl say. */
export function currencyDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** True for a three-letter code Intl knows as a currency. */
export function isCurrency(code: string): boolean {
  if (!/^[A-Z]{3}$/.test(code)) return false;
  try {
    new Intl.NumberFormat('en', { style: 'currency', currency: code });
    return Intl.supportedValuesOf('currency').includes(code);
  } catch {
    return false;
  }
}

/** `minor` units of `currency`, formatted for a reader of `lang`. */
export function formatMoney(minor: number, currency: string, lang: 'id' | 'en'): string {
  const digits = currencyDigits(currency);
  // Integer division by a power of ten keeps the amount exact; Intl only lays it out.
  const major = minor / 10 ** digits;
  return new Intl.NumberFormat(lang === 'id' ? 'id-ID' : 'en-US', { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits })
    .format(major)
    .replace(/\u00a0/g, '');
}
