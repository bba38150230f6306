import { type Invoice, type InvoiceLine } from './invoice';

/** RFC 4180 line ending, after every record including the last. */
const CRLF = '\r\n';

/** Columns of the CSV rendering, in order. Amounts are decimal euros. */
const COLUMNS: readonly [string, (line: InvoiceLine, invoice: Invoice) => string][] = [
  ['month', (_, invoice) => invoice.month],
  ['registry', (line) => line.registryName],
  ['registry_id', (line) => line.registryId],
  ['kind', (line) => line.kind],
  ['tier', (line) => line.tier ?? ''],
  ['period_start', (line) => line.periodStart],
  ['period_end', (line) => line.periodEnd],
  ['description', (line) => line.description],
  ['quantity', (line) => line.quantity],
  ['unit', (line) => line.unit],
  ['unit_price_eur', (line) => line.unitPrice],
  ['amount_eur', (line) => line.amount],
];

/** Characters that make a spreadsheet read a cell as a formula (or a DDE command). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field. A value a spreadsheet would evaluate (starting with `=`, `+`, `-`, `@`, a tab
 * or a carriage return) is prefixed with `'`, so a registry named `=HYPERLINK(...)` stays text.
 * Then RFC 4180: a field holding a comma, a double quote, CR or LF is enclosed in double quotes
 * and its double quotes are doubled.
 */
export function csvCell(value: string): string {
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The invoice as CSV: a header row, then one row per line in invoice order, CRLF after each.
 * Amounts are the lines' own decimal strings (formatted from integer cents).
 */
export function invoiceToCsv(invoice: Invoice): string {
  const header = COLUMNS.map(([name]) => csvCell(name)).join(',') + CRLF;
  const rows = invoice.lines.map(
    (line) => COLUMNS.map(([, get]) => csvCell(get(line, invoice))).join(',') + CRLF,
  );
  return header + rows.join('');
}
