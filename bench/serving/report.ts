// The one table of the serving benchmark (printed, and written to RESULTS.md with the date and the
// machine), with Loopline's goals beside its rows and a verdict per goal below. Figures only:
// nothing is asserted.
import type { ScenarioResult } from './load-worker';

export type LoadKind = 'c=1' | 'c=16' | 'open' | 'batch';

export interface Row {
  readonly system: string;
  /** Loopline as shipped (the goals apply), a Loopline variant (for comparison only), or a peer. */
  readonly role: 'loopline' | 'variant' | 'peer';
  readonly api: 'REST' | 'gRPC';
  readonly load: LoadKind;
  readonly rowsPerRequest: number;
  /** Measured, or why there is no figure. */
  readonly outcome: ScenarioResult | { readonly missing: string };
}

export interface Goals {
  readonly perCoreRatio: number;
  readonly openRate: number;
  readonly p99Ms: number;
  readonly batchRowsPerSecond: number;
}

export interface Report {
  readonly title: string;
  readonly rows: readonly Row[];
  readonly goals: Goals;
  readonly notes: readonly string[];
}

const measured = (row: Row): ScenarioResult | undefined => ('result' in row.outcome ? row.outcome : undefined);

function number(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ms(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0);
}

function requestsPerSecond(outcome: ScenarioResult): number {
  return outcome.result.requests / outcome.result.seconds;
}

/** Requests answered per CPU-second of the server's processes: its requests/s per core it used. */
function perServerCore(outcome: ScenarioResult): number {
  return outcome.serverCpuMs > 0 ? outcome.result.requests / (outcome.serverCpuMs / 1000) : Number.NaN;
}

function loadLabel(row: Row, goals: Goals): string {
  switch (row.load) {
    case 'c=1':
    case 'c=16':
      return `1 row, ${row.load}`;
    case 'open':
      return `1 row, open ${number(goals.openRate)}/s`;
    case 'batch':
      return `${row.rowsPerRequest} rows, c=16`;
    default: {
      const never: never = row.load;
      return never;
    }
  }
}

interface Verdicts {
  readonly perCore: { loopline?: { value: number; row: Row }; peer?: { value: number; row: Row }; ratio: number };
  readonly open: { row: Row; p99: number }[];
  readonly batch: { row: Row; rowsPerSecond: number }[];
}

function verdicts(report: Report): Verdicts {
  let loopline: { value: number; row: Row } | undefined;
  let peer: { value: number; row: Row } | undefined;
  const open: { row: Row; p99: number }[] = [];
  const batch: { row: Row; rowsPerSecond: number }[] = [];
  for (const row of report.rows) {
    const outcome = measured(row);
    if (!outcome) continue;
    if ((row.load === 'c=1' || row.load === 'c=16') && outcome.result.errors === 0) {
      const value = perServerCore(outcome);
      if (row.role === 'loopline') {
        if (!loopline || value > loopline.value) loopline = { value, row };
      } else if (row.role === 'peer' && (!peer || value > peer.value)) peer = { value, row };
    }
    if (row.role === 'loopline' && row.load === 'open') open.push({ row, p99: outcome.result.p99Ms });
    if (row.role === 'loopline' && row.load === 'batch') batch.push({ row, rowsPerSecond: requestsPerSecond(outcome) * row.rowsPerRequest });
  }
  return { perCore: { loopline, peer, ratio: loopline && peer ? loopline.value / peer.value : Number.NaN }, open, batch };
}

function goalCell(row: Row, report: Report, found: Verdicts): string {
  const outcome = measured(row);
  if (row.role === 'peer' || !outcome) return '';
  const { goals } = report;
  // A variant is held against the same goals for comparison; only Loopline as shipped counts.
  const prefix = row.role === 'variant' ? '(comparison) ' : '';
  if (row.load === 'c=16' && found.perCore.peer) {
    const ratio = perServerCore(outcome) / found.perCore.peer.value;
    return `${prefix}≥ ${goals.perCoreRatio}× best peer/core: ${ratio.toFixed(1)}× ${ratio >= goals.perCoreRatio ? '✓' : '✗'}`;
  }
  if (row.load === 'open') return `${prefix}p99 ≤ ${goals.p99Ms} ms: ${outcome.result.p99Ms <= goals.p99Ms && outcome.result.errors === 0 ? '✓' : '✗'}`;
  if (row.load === 'batch') {
    const rowsPerSecond = requestsPerSecond(outcome) * row.rowsPerRequest;
    return `${prefix}≥ ${number(goals.batchRowsPerSecond)} rows/s: ${rowsPerSecond >= goals.batchRowsPerSecond ? '✓' : '✗'}`;
  }
  return '';
}

export function renderTable(report: Report): string {
  const found = verdicts(report);
  const header = ['system', 'API', 'load', 'req/s', 'rows/s', 'p50 ms', 'p99 ms', 'server cores busy', 'server CPU-ms/req', 'req/s per server core', 'client CPU-ms/req', 'errors · late', 'Loopline goal / note'];
  const lines = report.rows.map((row) => {
    const outcome = measured(row);
    if (!outcome) return [row.system, row.api, loadLabel(row, report.goals), 'n/a', '', '', '', '', '', '', '', '', (row.outcome as { readonly missing: string }).missing];
    const { result } = outcome;
    const rps = requestsPerSecond(outcome);
    const errors = result.open
      ? `${number(result.errors + result.open.dropped)} · ${number(result.open.late)}/${number(result.open.scheduled)}`
      : number(result.errors);
    return [
      row.system,
      row.api,
      loadLabel(row, report.goals),
      number(rps),
      number(rps * row.rowsPerRequest),
      ms(result.p50Ms),
      ms(result.p99Ms),
      (outcome.serverCpuMs / 1000 / result.seconds).toFixed(2),
      result.requests > 0 ? (outcome.serverCpuMs / result.requests).toFixed(3) : '–',
      number(perServerCore(outcome)),
      result.requests > 0 ? (outcome.clientCpuMs / result.requests).toFixed(3) : '–',
      errors,
      goalCell(row, report, found),
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const render = (cells: readonly string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  return [render(header), `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`, ...lines.map(render)].join('\n');
}

export function renderGoals(report: Report): string[] {
  const found = verdicts(report);
  const { goals } = report;
  const describe = (row: Row) => `${row.system} ${row.api} ${loadLabel(row, goals)}`;
  const lines: string[] = [];
  const { loopline, peer, ratio } = found.perCore;
  if (loopline && peer) {
    lines.push(
      `- requests/s per server core ≥ ${goals.perCoreRatio}× the best peer's: Loopline's best ${number(loopline.value)} (${describe(loopline.row)}) vs the best peer's ${number(peer.value)} (${describe(peer.row)}) = ${ratio.toFixed(2)}× → ${ratio >= goals.perCoreRatio ? 'met' : 'missed'}`,
    );
  } else {
    lines.push(`- requests/s per server core ≥ ${goals.perCoreRatio}× the best peer's: not measurable in this run (${loopline ? 'no peer ran' : 'Loopline did not run'})`);
  }
  if (found.open.length > 0) {
    const worst = Math.max(...found.open.map((entry) => entry.p99));
    lines.push(`- p99 ≤ ${goals.p99Ms} ms at ${number(goals.openRate)} req/s: ${found.open.map((entry) => `${entry.row.api} ${ms(entry.p99)} ms`).join(', ')} → ${worst <= goals.p99Ms ? 'met' : 'missed'}`);
  }
  if (found.batch.length > 0) {
    const best = Math.max(...found.batch.map((entry) => entry.rowsPerSecond));
    lines.push(
      `- ≥ ${number(goals.batchRowsPerSecond)} rows/s with batch requests: ${found.batch.map((entry) => `${entry.row.api} ${number(entry.rowsPerSecond)}`).join(', ')} rows/s → ${best >= goals.batchRowsPerSecond ? 'met' : 'missed'}`,
    );
  }
  return lines;
}

export function renderMarkdown(report: Report, date: string): string {
  return [
    `# ${report.title}`,
    '',
    `Run on ${date} with \`npm run bench:serving\` (bench/serving/README.md says what it measures and how).`,
    '',
    renderTable(report),
    '',
    '## Goals (issue 3)',
    '',
    ...renderGoals(report),
    '',
    '## Conditions and notes',
    '',
    ...report.notes.map((note) => `- ${note}`),
    '',
  ].join('\n');
}
