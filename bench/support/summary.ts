/** The closing table: one row per measure, ready to paste as Markdown. */

/** One measure next to its baseline and goal. */
export interface SummaryRow {
  /** Position in the table (the order of the goals list), whatever order the sections ran in. */
  rank: number;
  measure: string;
  ours: string;
  baseline: string;
  ratio: string;
  goal: string;
  /** null: reported, no pass/fail. */
  met: boolean | null;
}

/** A ratio as `0.123x`, or an em dash. */
export const times = (r: number) => (Number.isFinite(r) ? `${r >= 10 ? r.toFixed(1) : r.toFixed(3)}x` : '—');

/** Prints the rows as a Markdown table. */
export function printSummary(rows: (SummaryRow | (() => SummaryRow))[]): void {
  const resolved = rows.map((r) => (typeof r === 'function' ? r() : r)).sort((a, b) => a.rank - b.rank);
  const table = [['measure', 'ours', 'baseline', 'ratio', 'goal', 'met?'], ...resolved.map((r) => [r.measure, r.ours, r.baseline, r.ratio, r.goal, r.met === null ? 'reported' : r.met ? 'yes' : 'NO'])];
  const widths = table[0]?.map((_, c) => Math.max(...table.map((row) => (row[c] ?? '').length))) ?? [];
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`;
  console.log(line(table[0] ?? []));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of table.slice(1)) console.log(line(row));
}
