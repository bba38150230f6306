import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_TIERS } from './default-tiers';
import { type Invoice, buildInvoice } from './invoice';
import { csvCell, invoiceToCsv } from './invoice-csv';
import { tierByName } from './tier';

/** A strict RFC 4180 reader: records end with CRLF, quoted fields may hold anything. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const quote = text.indexOf('"', i);
        assert.ok(quote >= 0, 'unterminated quoted field');
        field += text.slice(i, quote);
        i = quote + 1;
        if (text[i] !== '"') break;
        field += '"';
        i++;
      }
    } else {
      const end = text.slice(i).search(/[,\r\n"]/);
      field = end < 0 ? text.slice(i) : text.slice(i, i + end);
      i += field.length;
      assert.notEqual(text[i], '"', 'quote inside an unquoted field');
    }
    record.push(field);
    if (text[i] === ',') {
      i++;
    } else {
      assert.equal(text.slice(i, i + 2), '\r\n', `record ${records.length} does not end in CRLF`);
      i += 2;
      records.push(record);
      record = [];
    }
  }
  return records;
}

const HEADER = [
  'month',
  'registry',
  'registry_id',
  'kind',
  'tier',
  'period_start',
  'period_end',
  'description',
  'quantity',
  'unit',
  'unit_price_eur',
  'amount_eur',
];

function invoiceWithNames(names: string[]): Invoice {
  return buildInvoice({
    organisationId: 'org-1',
    month: '2026-11',
    registries: names.map((registryName, index) => ({
      registryId: `r-${index}`,
      registryName,
      tierPeriods: [
        { tier: tierByName(DEFAULT_TIERS, 'scr-10'), from: '2026-11-01T00:00:00Z', to: null },
      ],
      egress: [],
      snapshots: [],
    })),
  });
}

describe('worked example 8: CSV rendering', () => {
  it('renders a header and one row per line with amounts from integer cents', () => {
    // Example 4 in small: scr-10 then scr-25 from 2026-11-11 (EUR 1.01 + EUR 3.65), and 300 GB
    // served in hour 0 (allowance 566.666667 GB: nothing over).
    const invoice = buildInvoice({
      organisationId: 'org-1',
      month: '2026-11',
      registries: [
        {
          registryId: 'r-1',
          registryName: 'acme-prod',
          tierPeriods: [
            {
              tier: tierByName(DEFAULT_TIERS, 'scr-10'),
              from: '2026-11-01T00:00:00Z',
              to: '2026-11-11T00:00:00Z',
            },
            { tier: tierByName(DEFAULT_TIERS, 'scr-25'), from: '2026-11-11T00:00:00Z', to: null },
          ],
          egress: [{ hour: '2026-11-01T00:00:00Z', bytes: 300_000_000_000 }],
          snapshots: [],
        },
      ],
    });
    const csv = invoiceToCsv(invoice);
    assert.equal(
      csv,
      'month,registry,registry_id,kind,tier,period_start,period_end,description,quantity,unit,unit_price_eur,amount_eur\r\n' +
        '2026-11,acme-prod,r-1,tier,scr-10,2026-11-01T00:00:00.000Z,2026-11-11T00:00:00.000Z,' +
        '"acme-prod: tier scr-10 from 2026-11-01 00:00 to 2026-11-11 00:00 UTC, 240 of 720 hours",' +
        '0.333333,month,3.02,1.01\r\n' +
        '2026-11,acme-prod,r-1,tier,scr-25,2026-11-11T00:00:00.000Z,2026-12-01T00:00:00.000Z,' +
        '"acme-prod: tier scr-25 from 2026-11-11 00:00 to 2026-12-01 00:00 UTC, 480 of 720 hours",' +
        '0.666667,month,5.47,3.65\r\n',
    );
    assert.deepEqual(parseCsv(csv)[0], HEADER);
  });

  it('quotes and escapes per RFC 4180 and round-trips through a strict reader', () => {
    const names = ['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\rhere', 'crlf\r\nhere', ''];
    const invoice = invoiceWithNames(names);
    const records = parseCsv(invoiceToCsv(invoice));
    assert.equal(records.length, 1 + invoice.lines.length);
    for (const record of records) assert.equal(record.length, HEADER.length);
    // Registries come sorted by name; each row carries its registry's name unchanged.
    assert.deepEqual(
      records.slice(1).map((r) => r[1]),
      invoice.lines.map((l) => l.registryName),
    );
    assert.deepEqual(
      records.slice(1).map((r) => r[11]),
      invoice.lines.map(() => '3.02'),
    );
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('two\nlines'), '"two\nlines"');
    assert.equal(csvCell('plain'), 'plain');
    assert.equal(csvCell(''), '');
  });

  it('neutralises cells a spreadsheet would read as a formula', () => {
    const cases: [string, string][] = [
      ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
      ['+1+2', "'+1+2"],
      ['-2+3', "'-2+3"],
      ['@SUM(A1)', "'@SUM(A1)"],
      ['\tindent', "'\tindent"],
      ['\r=1', `"'\r=1"`],
      ['a=1', 'a=1'], // only the first character matters
      [' =1', ' =1'],
    ];
    for (const [value, cell] of cases) assert.equal(csvCell(value), cell, JSON.stringify(value));

    const evil = ['=cmd|" /C calc"!A0', '+SUM(1)', '-1', '@x', '\tx', '\rx'];
    const records = parseCsv(invoiceToCsv(invoiceWithNames(evil)));
    for (const record of records.slice(1)) {
      // the registry cell, and the description that starts with the registry's name
      assert.ok(evil.includes(record[1].slice(1)), JSON.stringify(record[1]));
      assert.equal(record[1][0], "'");
      assert.equal(record[7][0], "'");
    }
  });

  it('renders an invoice without lines as the header alone', () => {
    assert.equal(invoiceToCsv(invoiceWithNames([])), HEADER.join(',') + '\r\n');
  });
});
