import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BillingErrorCode } from './billing.exception';
import { BillingMonth } from './billing-month';
import { DEFAULT_TIERS } from './default-tiers';
import { type HourlyBytes } from './hourly-bytes';
import { type Invoice, type RegistryUsage, buildInvoice } from './invoice';
import { type BillingTier, tierByName } from './tier';

/**
 * Worked examples. Every expected figure was computed by hand in the comment above it, from
 * the tier table (scr-10: EUR 3.02/month, 200 GB included, EUR 0.005/GB over; scr-25: EUR
 * 5.47, 750 GB, EUR 0.0045/GB; scr-50: EUR 7.49; scr-100: EUR 12.10; scr-1024: EUR 85.03,
 * 32 TB, EUR 0.0015/GB), with 1 GB = 10^9 bytes and amounts rounded half-up per line.
 */

const GB = 1_000_000_000;
const tier = (name: string): BillingTier => tierByName(DEFAULT_TIERS, name);

function usage(partial: Partial<RegistryUsage>): RegistryUsage {
  return {
    registryId: 'r-1',
    registryName: 'acme-prod',
    tierPeriods: [],
    egress: [],
    snapshots: [],
    ...partial,
  };
}

/** `bytes` in each of the hours [from, to) of the month. */
function everyHour(label: string, from: number, to: number, bytes: number): HourlyBytes[] {
  const month = BillingMonth.parse(label);
  const samples: HourlyBytes[] = [];
  for (let hour = from; hour < to; hour++) samples.push({ hour: month.hourIso(hour), bytes });
  return samples;
}

function invoiceFor(month: string, registries: RegistryUsage[]): Invoice {
  return buildInvoice({ organisationId: 'org-1', month, registries });
}

/** [kind, tier, quantity, unit, unit price, amount] of every line. */
function rows(invoice: Invoice): [string, string | null, string, string, string, string][] {
  return invoice.lines.map((l) => [l.kind, l.tier, l.quantity, l.unit, l.unitPrice, l.amount]);
}

describe('worked example 1: a full month on scr-10', () => {
  it('costs EUR 3.02 in a 30-day month', () => {
    // November 2026: 720 of 720 hours, 3.02 * 720/720 = EUR 3.02. The period started in
    // October and is still open: it is clipped to the month.
    const invoice = invoiceFor('2026-11', [
      usage({ tierPeriods: [{ tier: tier('scr-10'), from: '2026-10-15T08:12:00Z', to: null }] }),
    ]);
    assert.deepEqual(rows(invoice), [['tier', 'scr-10', '1', 'month', '3.02', '3.02']]);
    const [line] = invoice.lines;
    assert.equal(line.amountCents, 302);
    assert.equal(line.unitPriceMicros, 3_020_000);
    assert.equal(line.periodStart, '2026-11-01T00:00:00.000Z');
    assert.equal(line.periodEnd, '2026-12-01T00:00:00.000Z');
    assert.equal(
      line.description,
      'acme-prod: tier scr-10 from 2026-11-01 00:00 to 2026-12-01 00:00 UTC, 720 of 720 hours',
    );
    assert.equal(invoice.subtotalCents, 302);
    assert.equal(invoice.totalCents, 302);
    assert.equal(invoice.total, '3.02');
    assert.equal(invoice.currency, 'EUR');
    assert.equal(invoice.hoursInMonth, 720);
  });
});

describe('worked example 2: a tier change mid-month', () => {
  it('prorates each tier by its hours and rounds each line', () => {
    // November 2026 (720 h): scr-10 for the first 10 days, scr-25 for the other 20.
    //   scr-10: 240 h, 3.02 * 240/720 = 1.006667 -> EUR 1.01
    //   scr-25: 480 h, 5.47 * 480/720 = 3.646667 -> EUR 3.65
    //   total EUR 4.66 (the unrounded sum would be 4.653333: each line is rounded on its own)
    const invoice = invoiceFor('2026-11', [
      usage({
        tierPeriods: [
          { tier: tier('scr-25'), from: '2026-11-11T00:00:00Z', to: null },
          { tier: tier('scr-10'), from: '2026-11-01T00:00:00Z', to: '2026-11-11T00:00:00Z' },
        ],
      }),
    ]);
    assert.deepEqual(rows(invoice), [
      ['tier', 'scr-10', '0.333333', 'month', '3.02', '1.01'],
      ['tier', 'scr-25', '0.666667', 'month', '5.47', '3.65'],
    ]);
    assert.equal(invoice.totalCents, 466);
  });

  it('bills the hour of the change at the new tier', () => {
    // Change at 2026-11-11 09:41: the 09:00 hour is scr-25's.
    //   scr-10: 10*24 + 9 = 249 h, 3.02 * 249/720 = 1.044417 -> EUR 1.04
    //   scr-25: 720 - 249 = 471 h, 5.47 * 471/720 = 3.578292 -> EUR 3.58
    const invoice = invoiceFor('2026-11', [
      usage({
        tierPeriods: [
          { tier: tier('scr-10'), from: '2026-11-01T00:00:00Z', to: '2026-11-11T09:41:00Z' },
          { tier: tier('scr-25'), from: '2026-11-11T09:41:00Z', to: null },
        ],
      }),
    ]);
    assert.deepEqual(
      invoice.lines.map((l) => [l.tier, l.periodStart, l.periodEnd, l.amountCents]),
      [
        ['scr-10', '2026-11-01T00:00:00.000Z', '2026-11-11T09:00:00.000Z', 104],
        ['scr-25', '2026-11-11T09:00:00.000Z', '2026-12-01T00:00:00.000Z', 358],
      ],
    );
    assert.equal(invoice.totalCents, 462);
  });
});

describe('worked example 3: egress overage', () => {
  const scr10AllMonth = [{ tier: tier('scr-10'), from: '2026-11-01T00:00:00Z', to: null }];

  it('charges 250 GB on scr-10 as 50 GB over at EUR 0.005 = EUR 0.25', () => {
    // 1 GB in each of the first 250 hours: 250 GB served, 200 GB included, 50 GB over,
    // 50 * 0.005 = EUR 0.25. Total 3.02 + 0.25 = EUR 3.27.
    const invoice = invoiceFor('2026-11', [
      usage({ tierPeriods: scr10AllMonth, egress: everyHour('2026-11', 0, 250, GB) }),
    ]);
    assert.deepEqual(rows(invoice), [
      ['tier', 'scr-10', '1', 'month', '3.02', '3.02'],
      ['egress_overage', 'scr-10', '50', 'GB', '0.005', '0.25'],
    ]);
    assert.equal(
      invoice.lines[1].description,
      'acme-prod: egress above the allowance at the scr-10 rate (month: 250 GB served, 200 GB included)',
    );
    assert.equal(invoice.totalCents, 327);
  });

  it('lists no egress line within the allowance', () => {
    // Exactly 200 GB: nothing over.
    const invoice = invoiceFor('2026-11', [
      usage({ tierPeriods: scr10AllMonth, egress: everyHour('2026-11', 0, 200, GB) }),
    ]);
    assert.deepEqual(
      invoice.lines.map((l) => l.kind),
      ['tier'],
    );
    assert.equal(invoice.totalCents, 302);
  });
});

describe('worked example 4: auto-upgrade at 90% mid-month', () => {
  it('bills both tiers, pools the allowance and prices the excess per tier', () => {
    // November 2026 (720 h). The registry on scr-10 reaches 9 GB of its 10 GB (90%) on
    // 2026-11-16 at 14:20; its policy is auto_upgrade, so it moves to scr-25 then.
    // Egress: 1.25 GB every hour of the month (900 GB).
    //
    // Tier time (the 14:00 hour goes to scr-25):
    //   scr-10: 15*24 + 14 = 374 h, 3.02 * 374/720 = 1.568722 -> EUR 1.57
    //   scr-25: 720 - 374  = 346 h, 5.47 * 346/720 = 2.628639 -> EUR 2.63
    // Allowance: 200 * 374/720 + 750 * 346/720 = 103.888889 + 360.416667 = 464.305556 GB.
    // Served in the scr-10 hours: 374 * 1.25 = 467.5 GB -> the pool is empty 3.194444 GB
    // before the upgrade: 3.194444 * 0.005 = 0.015972 -> EUR 0.02 at the scr-10 rate.
    // Served in the scr-25 hours: 346 * 1.25 = 432.5 GB, all over:
    //   432.5 * 0.0045 = 1.94625 -> EUR 1.95 at the scr-25 rate.
    // Total: 1.57 + 2.63 + 0.02 + 1.95 = EUR 6.17.
    const invoice = invoiceFor('2026-11', [
      usage({
        tierPeriods: [
          { tier: tier('scr-10'), from: '2026-09-02T10:00:00Z', to: '2026-11-16T14:20:00Z' },
          { tier: tier('scr-25'), from: '2026-11-16T14:20:00Z', to: null },
        ],
        egress: everyHour('2026-11', 0, 720, 1_250_000_000),
      }),
    ]);
    assert.deepEqual(rows(invoice), [
      ['tier', 'scr-10', '0.519444', 'month', '3.02', '1.57'],
      ['tier', 'scr-25', '0.480556', 'month', '5.47', '2.63'],
      ['egress_overage', 'scr-10', '3.194444444', 'GB', '0.005', '0.02'],
      ['egress_overage', 'scr-25', '432.5', 'GB', '0.0045', '1.95'],
    ]);
    assert.match(invoice.lines[2].description, /\(month: 900 GB served, 464\.31 GB included\)$/);
    assert.deepEqual(
      [invoice.lines[3].periodStart, invoice.lines[3].periodEnd],
      ['2026-11-16T14:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    );
    assert.equal(invoice.totalCents, 617);
    assert.equal(invoice.total, '6.17');
  });
});

describe('worked example 5: backup storage', () => {
  it('charges EUR 0.05 per GB-month of snapshot space', () => {
    // November (720 h): snapshots take 10 GB for 360 h, then 30 GB for 360 h.
    // (10*360 + 30*360) / 720 = 20 GB-months, 20 * 0.05 = EUR 1.00. Total 3.02 + 1.00.
    const invoice = invoiceFor('2026-11', [
      usage({
        tierPeriods: [{ tier: tier('scr-10'), from: '2026-11-01T00:00:00Z', to: null }],
        snapshots: [
          ...everyHour('2026-11', 0, 360, 10 * GB),
          ...everyHour('2026-11', 360, 720, 30 * GB),
        ],
      }),
    ]);
    assert.deepEqual(rows(invoice), [
      ['tier', 'scr-10', '1', 'month', '3.02', '3.02'],
      ['backup_storage', null, '20', 'GB-month', '0.05', '1.00'],
    ]);
    assert.equal(invoice.totalCents, 402);
  });

  it('takes the rate as an option and bills snapshots of a registry deleted before the month', () => {
    // 20 GB all month at EUR 0.08 per GB-month = EUR 1.60; no tier period, no tier line.
    const invoice = buildInvoice(
      {
        organisationId: 'org-1',
        month: BillingMonth.parse('2026-11'),
        registries: [usage({ snapshots: everyHour('2026-11', 0, 720, 20 * GB) })],
      },
      { backupRateMicrosPerGbMonth: 80_000 },
    );
    assert.deepEqual(rows(invoice), [['backup_storage', null, '20', 'GB-month', '0.08', '1.60']]);
  });

  it('omits a backup line under half a cent', () => {
    // 1 GB for one hour: 0.05 / 720 = EUR 0.000069 -> 0 cents, no line.
    const invoice = invoiceFor('2026-11', [usage({ snapshots: everyHour('2026-11', 5, 6, GB) })]);
    assert.deepEqual(invoice.lines, []);
    assert.equal(invoice.totalCents, 0);
  });
});

describe('worked example 6: months of 28, 29 and 31 days', () => {
  it('prorates over the hours of the month at hand', () => {
    // February 2026 (672 h): scr-10 for 14 days = 336 h, 3.02 * 336/672 = EUR 1.51.
    // February 2028 (leap, 696 h): scr-100 for 10 days = 240 h, 12.10 * 240/696 = 4.172414
    //   -> EUR 4.17.
    // December 2026 (744 h): scr-10 for 10 days = 240 h, 3.02 * 240/744 = 0.974194 -> EUR 0.97
    //   (EUR 1.01 in a 30-day month, example 2).
    const cases: [string, string, string, string, number][] = [
      ['2026-02', 'scr-10', '2026-02-01T00:00:00Z', '2026-02-15T00:00:00Z', 151],
      ['2028-02', 'scr-100', '2028-02-01T00:00:00Z', '2028-02-11T00:00:00Z', 417],
      ['2026-12', 'scr-10', '2026-12-01T00:00:00Z', '2026-12-11T00:00:00Z', 97],
    ];
    for (const [month, name, from, to, cents] of cases) {
      const invoice = invoiceFor(month, [usage({ tierPeriods: [{ tier: tier(name), from, to }] })]);
      assert.equal(invoice.totalCents, cents, month);
    }
  });

  it('charges a full month the monthly price whatever its length', () => {
    for (const month of ['2026-02', '2028-02', '2026-11', '2026-12']) {
      const start = BillingMonth.parse(month).hourIso(0);
      const invoice = invoiceFor(month, [
        usage({ tierPeriods: [{ tier: tier('scr-10'), from: start, to: null }] }),
      ]);
      assert.deepEqual(rows(invoice), [['tier', 'scr-10', '1', 'month', '3.02', '3.02']], month);
    }
  });

  it('includes the whole egress allowance in a full February', () => {
    // February 2026, 201 GB on scr-10 all month: 1 GB over, 0.005 -> EUR 0.005 -> EUR 0.01.
    const invoice = invoiceFor('2026-02', [
      usage({
        tierPeriods: [{ tier: tier('scr-10'), from: '2026-02-01T00:00:00Z', to: null }],
        egress: [
          ...everyHour('2026-02', 0, 1, 101 * GB),
          ...everyHour('2026-02', 671, 672, 100 * GB),
        ],
      }),
    ]);
    assert.deepEqual(rows(invoice)[1], ['egress_overage', 'scr-10', '1', 'GB', '0.005', '0.01']);
  });
});

describe('worked example 7: rounding', () => {
  const scr10AllMonth = [{ tier: tier('scr-10'), from: '2026-11-01T00:00:00Z', to: null }];

  it('rounds an exact half cent up', () => {
    // 201 GB on scr-10: 1 GB * 0.005 = EUR 0.005 = 0.5 cent -> 1 cent (half-even would say 0).
    const over = invoiceFor('2026-11', [
      usage({ tierPeriods: scr10AllMonth, egress: everyHour('2026-11', 0, 201, GB) }),
    ]);
    assert.equal(over.lines[1].amountCents, 1);
    // scr-50 for half of November (360 of 720 h): 7.49 / 2 = 3.745 -> EUR 3.75 (half-even: 3.74).
    const half = invoiceFor('2026-11', [
      usage({
        tierPeriods: [{ tier: tier('scr-50'), from: '2026-11-16T00:00:00Z', to: null }],
      }),
    ]);
    assert.deepEqual(rows(half), [['tier', 'scr-50', '0.5', 'month', '7.49', '3.75']]);
  });

  it('rounds just under half a cent down and omits the empty egress line', () => {
    // 200 GB + 999,999,999 bytes: 0.999999999 GB * 0.005 = EUR 0.004999999995 -> 0 cents.
    const invoice = invoiceFor('2026-11', [
      usage({
        tierPeriods: scr10AllMonth,
        egress: [...everyHour('2026-11', 0, 200, GB), ...everyHour('2026-11', 200, 201, GB - 1)],
      }),
    ]);
    assert.deepEqual(
      invoice.lines.map((l) => l.kind),
      ['tier'],
    );
  });

  it('does not drift over 744 hourly samples', () => {
    // December 2026 (744 h), snapshots of 10.1 GB all month: 10.1 * 0.05 = EUR 0.505 exactly
    // -> EUR 0.51. (Adding 744 float shares of 10.1 * 0.05 / 744 gives 0.50499999... -> 0.50.)
    // Egress of 0.3 GB in each of the 744 hours = 223.2 GB exactly, 23.2 GB over on scr-10:
    // 23.2 * 0.005 = EUR 0.116 -> EUR 0.12.
    const invoice = invoiceFor('2026-12', [
      usage({
        tierPeriods: [{ tier: tier('scr-10'), from: '2026-12-01T00:00:00Z', to: null }],
        egress: everyHour('2026-12', 0, 744, 300_000_000),
        snapshots: everyHour('2026-12', 0, 744, 10_100_000_000),
      }),
    ]);
    assert.deepEqual(rows(invoice), [
      ['tier', 'scr-10', '1', 'month', '3.02', '3.02'],
      ['egress_overage', 'scr-10', '23.2', 'GB', '0.005', '0.12'],
      ['backup_storage', null, '10.1', 'GB-month', '0.05', '0.51'],
    ]);
    assert.equal(invoice.totalCents, 365);
  });

  it('stays exact for amounts whose products exceed 2^53', () => {
    // scr-1024 all of December with 9 PB (9 * 10^15 bytes) served every hour:
    // 744 * 9,000,000 GB = 6,696,000,000 GB served, 32,000 GB included,
    // 6,695,968,000 GB over * 0.0015 = EUR 10,043,952.00. Plus EUR 85.03 of tier time.
    const invoice = invoiceFor('2026-12', [
      usage({
        tierPeriods: [{ tier: tier('scr-1024'), from: '2026-12-01T00:00:00Z', to: null }],
        egress: everyHour('2026-12', 0, 744, 9_000_000_000_000_000),
      }),
    ]);
    assert.deepEqual(rows(invoice)[1], [
      'egress_overage',
      'scr-1024',
      '6695968000',
      'GB',
      '0.0015',
      '10043952.00',
    ]);
    assert.equal(invoice.totalCents, 1_004_395_200 + 8_503);
    assert.equal(invoice.total, '10044037.03');
  });
});

describe('the invoice', () => {
  it('orders registries by name then id, and lines tier, egress, backup', () => {
    const scr10 = [{ tier: tier('scr-10'), from: '2026-11-01T00:00:00Z', to: null }];
    const invoice = invoiceFor('2026-11', [
      usage({ registryId: 'r-9', registryName: 'zeta', tierPeriods: scr10 }),
      usage({
        registryId: 'r-5',
        registryName: 'alpha',
        tierPeriods: scr10,
        egress: everyHour('2026-11', 0, 1, 300 * GB), // 100 GB over: EUR 0.50
        snapshots: everyHour('2026-11', 0, 720, GB), // 1 GB-month: EUR 0.05
      }),
      usage({ registryId: 'r-2', registryName: 'alpha', tierPeriods: scr10 }),
      usage({ registryId: 'r-3', registryName: 'Zeta', tierPeriods: scr10 }),
    ]);
    assert.deepEqual(
      invoice.lines.map((l) => [l.registryName, l.registryId, l.kind, l.amount]),
      [
        ['Zeta', 'r-3', 'tier', '3.02'], // code-unit order: upper case first
        ['alpha', 'r-2', 'tier', '3.02'],
        ['alpha', 'r-5', 'tier', '3.02'],
        ['alpha', 'r-5', 'egress_overage', '0.50'],
        ['alpha', 'r-5', 'backup_storage', '0.05'],
        ['zeta', 'r-9', 'tier', '3.02'],
      ],
    );
    assert.equal(invoice.subtotalCents, 4 * 302 + 50 + 5);
    assert.equal(invoice.totalCents, invoice.subtotalCents);
  });

  it('is plain JSON data', () => {
    const invoice = invoiceFor('2026-11', [
      usage({
        tierPeriods: [{ tier: tier('scr-10'), from: new Date('2026-11-01T00:00:00Z'), to: null }],
        egress: everyHour('2026-11', 0, 1, 300 * GB),
      }),
    ]);
    assert.deepEqual(JSON.parse(JSON.stringify(invoice)), invoice);
    assert.deepEqual(
      [invoice.organisationId, invoice.month, invoice.periodStart, invoice.periodEnd],
      ['org-1', '2026-11', '2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    );
  });

  it('uses the tier figures it is given, not a built-in table', () => {
    // A custom tier: EUR 1.00/month, nothing included, EUR 0.01/GB.
    // Full month EUR 1.00, 3 GB served -> EUR 0.03.
    const custom: BillingTier = {
      name: 'custom',
      includedEgressBytes: 0,
      overagePerGbMicros: 10_000,
      monthlyPriceMicros: 1_000_000,
    };
    const invoice = invoiceFor('2026-11', [
      usage({
        tierPeriods: [{ tier: custom, from: '2026-11-01T00:00:00Z', to: null }],
        egress: everyHour('2026-11', 0, 3, GB),
      }),
    ]);
    assert.deepEqual(rows(invoice), [
      ['tier', 'custom', '1', 'month', '1.00', '1.00'],
      ['egress_overage', 'custom', '3', 'GB', '0.01', '0.03'],
    ]);
  });

  it('lists a tier line even when it amounts to nothing', () => {
    const free: BillingTier = {
      name: 'free',
      includedEgressBytes: 0,
      overagePerGbMicros: 0,
      monthlyPriceMicros: 0,
    };
    const invoice = invoiceFor('2026-11', [
      usage({
        tierPeriods: [{ tier: free, from: '2026-11-01T00:00:00Z', to: null }],
        egress: everyHour('2026-11', 0, 3, GB),
      }),
    ]);
    assert.deepEqual(rows(invoice), [['tier', 'free', '1', 'month', '0.00', '0.00']]);
  });

  it('is empty for an organisation without registries', () => {
    const invoice = invoiceFor('2026-11', []);
    assert.deepEqual([invoice.lines, invoice.totalCents, invoice.total], [[], 0, '0.00']);
  });
});

describe('worked example 9: invalid input', () => {
  const cases: [string, RegistryUsage[], BillingErrorCode][] = [
    [
      'overlapping tier periods',
      [
        usage({
          tierPeriods: [
            { tier: tier('scr-10'), from: '2026-11-01T00:00:00Z', to: '2026-11-20T00:00:00Z' },
            { tier: tier('scr-25'), from: '2026-11-19T00:00:00Z', to: null },
          ],
        }),
      ],
      BillingErrorCode.OVERLAPPING_PERIODS,
    ],
    [
      'a tier period outside the month',
      [
        usage({
          tierPeriods: [
            { tier: tier('scr-10'), from: '2026-10-01T00:00:00Z', to: '2026-10-31T00:00:00Z' },
          ],
        }),
      ],
      BillingErrorCode.PERIOD_OUTSIDE_MONTH,
    ],
    [
      'egress with no tier to price it',
      [usage({ egress: everyHour('2026-11', 0, 1, GB) })],
      BillingErrorCode.EGRESS_WITHOUT_TIER,
    ],
    [
      'a registry listed twice',
      [usage({ registryName: 'a' }), usage({ registryName: 'b' })],
      BillingErrorCode.DUPLICATE_REGISTRY,
    ],
    [
      'a snapshot sample outside the month',
      [usage({ snapshots: [{ hour: '2026-12-01T00:00:00Z', bytes: GB }] })],
      BillingErrorCode.HOUR_OUTSIDE_MONTH,
    ],
  ];
  for (const [name, registries, code] of cases) {
    it(`refuses ${name}`, () => {
      assert.throws(() => invoiceFor('2026-11', registries), { name: 'BillingException', code });
    });
  }

  it('refuses a malformed month', () => {
    assert.throws(() => invoiceFor('2026-11-01', []), { code: BillingErrorCode.INVALID_MONTH });
  });
});
