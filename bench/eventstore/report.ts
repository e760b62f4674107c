import type { EndToEndLatency } from './end-to-end-latency';
import { formatNumber, percentile, type LoopResult } from './measure';
import type { RelayThroughput } from './relay-throughput';

export interface Report {
  readonly conditions: string;
  readonly oneStream: LoopResult;
  readonly eightStreams: LoopResult;
  readonly rawOne: LoopResult;
  readonly rawEight: LoopResult;
  readonly relay: RelayThroughput;
  readonly latency: EndToEndLatency;
  readonly latencyRate: number;
}

function verdict(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

function ratio(value: number, floor: number): string {
  return `${((100 * value) / floor).toFixed(0)}% of raw`;
}

/** Prints the figures as a table, with the goals and the raw-commit floor beside them. */
export function printReport(report: Report): void {
  const { oneStream, eightStreams, rawOne, rawEight, relay, latency } = report;
  const p99 = (result: LoopResult) => `${percentile(result.latenciesMs, 99).toFixed(1)} ms p99`;
  const rows: [string, string, string, string][] = [
    ['measurement', 'result', 'goal', 'vs raw PostgreSQL commit (same run)'],
    ['append, 1 stream, sequential', `${formatNumber(oneStream.perSecond)} appends/s (${p99(oneStream)})`, '—', ratio(oneStream.perSecond, rawOne.perSecond)],
    [
      'append, 8 streams, 8 connections',
      `${formatNumber(eightStreams.perSecond)} appends/s (${p99(eightStreams)})`,
      `≥ 2,000: ${verdict(eightStreams.perSecond >= 2000)}`,
      ratio(eightStreams.perSecond, rawEight.perSecond),
    ],
    ['raw INSERT + COMMIT, 1 connection', `${formatNumber(rawOne.perSecond)} tps (${p99(rawOne)})`, '—', 'floor'],
    ['raw INSERT + COMMIT, 8 connections', `${formatNumber(rawEight.perSecond)} tps (${p99(rawEight)})`, '—', 'floor'],
    [
      `outbox relay → Kafka (${formatNumber(relay.rows)} rows)`,
      `${formatNumber(relay.perSecond)} events/s (${formatNumber(relay.elapsedMs / 1000, 2)} s; ${formatNumber(relay.onTopic)} on topic)`,
      `≥ 20,000: ${verdict(relay.perSecond >= 20_000)}`,
      '—',
    ],
    [
      `append → consume at ${formatNumber(report.latencyRate)}/s`,
      `p50 ${latency.p50Ms.toFixed(1)} ms, p99 ${latency.p99Ms.toFixed(1)} ms, max ${latency.maxMs.toFixed(1)} ms (${formatNumber(latency.measured)} events at ${formatNumber(latency.achievedPerSecond)}/s)`,
      `p99 ≤ 50 ms: ${verdict(latency.p99Ms <= 50)}`,
      '—',
    ],
    [
      '  of which append → published',
      `p50 ${latency.toPublishedP50Ms.toFixed(1)} ms, p99 ${latency.toPublishedP99Ms.toFixed(1)} ms (append alone p99 ${latency.appendP99Ms.toFixed(1)} ms)`,
      '—',
      '—',
    ],
    ['  of which published → consumed', `p50 ${latency.toConsumedP50Ms.toFixed(1)} ms, p99 ${latency.toConsumedP99Ms.toFixed(1)} ms (kafkajs consumer)`, '—', '—'],
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: readonly string[]) => `| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  console.log(`\nEvent store benchmark — ${report.conditions}`);
  console.log(line(rows[0]!));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of rows.slice(1)) console.log(line(row));
}
