// `loopline alerts ls|ack|dismiss`: drift and performance alerts of the monitoring service
// (LOOPLINE_MONITORING_URL, default http://127.0.0.1:7007).
import { number, parseCommandArgs, printJson, runReporting, table, time, type PlatformCommand } from './cli-output';
import { cliActor, segment, ServiceClient, UsageError } from './service-client';

export const alertsUsage = `usage: loopline alerts <command> [--json]

  ls [--model <name>] [--status open|acknowledged|resolved] [--limit N]
                                     alerts, newest first, with their evidence in brief
  ack <alert-id> [--note <text>]     acknowledge: someone is on it (recorded with your name)
  dismiss <alert-id> --reason <text> resolve it as dismissed (not a real problem), with why

You act as LOOPLINE_ACTOR, or user:<your login>. The monitoring URL comes from
LOOPLINE_MONITORING_URL, or http://127.0.0.1:7007.`;

const options = {
  model: { type: 'string', short: 'm' },
  status: { type: 'string' },
  limit: { type: 'string' },
  note: { type: 'string' },
  reason: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const alertStatuses = ['open', 'acknowledged', 'resolved'];

interface FeatureDriftJson {
  readonly featureName?: string;
  readonly statistic?: string;
  readonly value?: number;
  readonly threshold?: number;
  readonly drifted?: boolean;
}

export interface AlertJson {
  readonly alertId: string;
  readonly kind: 'drift' | 'performance' | string;
  readonly modelName: string;
  readonly modelVersion: number | string;
  readonly monitorName: string;
  readonly severity: string;
  readonly status: string;
  readonly evidence: Readonly<Record<string, unknown>>;
  readonly detectedAt: string;
  readonly acknowledgedAt?: string;
  readonly acknowledgedBy?: string;
  readonly resolvedAt?: string;
  readonly resolution?: unknown;
  readonly resolvedBy?: string;
  /** The acknowledgement's note. */
  readonly note?: string;
  /** Why it was dismissed. */
  readonly reason?: string;
}

/** The evidence in a few words: which features drifted, or which metric crossed its threshold. */
export function evidenceSummary(alert: AlertJson): string {
  const evidence = alert.evidence ?? {};
  if (Array.isArray(evidence.features)) {
    const features = evidence.features as FeatureDriftJson[];
    const drifted = features.filter((feature) => feature.drifted);
    const share = typeof evidence.driftedFeatureShare === 'number' ? `${Math.round(evidence.driftedFeatureShare * 100)}% drifted` : `${drifted.length}/${features.length} drifted`;
    const names = drifted
      .slice(0, 4)
      .map((feature) => `${feature.featureName ?? '?'} ${feature.statistic ? `${String(feature.statistic).replace(/^DRIFT_STATISTIC_/, '').toLowerCase()} ` : ''}${typeof feature.value === 'number' ? number(feature.value) : ''}`.trim())
      .join(', ');
    return `${share}${names ? `: ${names}${drifted.length > 4 ? ', …' : ''}` : ''}${typeof evidence.sampleSize === 'number' || typeof evidence.sampleSize === 'string' ? ` (n=${evidence.sampleSize})` : ''}`;
  }
  if (typeof evidence.metricName === 'string') {
    const direction = String(evidence.direction ?? '').includes('LOWER') ? '>' : '<';
    const value = typeof evidence.value === 'number' ? number(evidence.value) : '?';
    const threshold = typeof evidence.threshold === 'number' ? number(evidence.threshold) : '?';
    const baseline = typeof evidence.baselineValue === 'number' ? `, at release ${number(evidence.baselineValue)}` : '';
    return `${evidence.metricName} ${value} ${direction} ${threshold}${baseline}${evidence.sampleSize !== undefined ? ` (n=${String(evidence.sampleSize)})` : ''}`;
  }
  return JSON.stringify(evidence).slice(0, 120);
}

function alertLines(alert: AlertJson): string[] {
  const lines = [
    `alert ${alert.alertId}  ${alert.kind}  ${alert.severity}  ${alert.status}`,
    `  model      ${alert.modelName} v${alert.modelVersion}  monitor ${alert.monitorName}`,
    `  detected   ${time(alert.detectedAt)}`,
    `  evidence   ${evidenceSummary(alert)}`,
  ];
  if (alert.acknowledgedAt) lines.push(`  acknowledged ${time(alert.acknowledgedAt)}${alert.acknowledgedBy ? ` by ${alert.acknowledgedBy}` : ''}${alert.note ? `: ${alert.note}` : ''}`);
  if (alert.resolvedAt) {
    const resolution = alert.resolution === undefined || alert.resolution === null ? '' : ` ${typeof alert.resolution === 'string' ? alert.resolution : JSON.stringify(alert.resolution)}`;
    lines.push(`  resolved   ${time(alert.resolvedAt)}${resolution}${alert.resolvedBy ? ` by ${alert.resolvedBy}` : ''}${alert.reason ? `: ${alert.reason}` : ''}`);
  }
  return lines;
}

export const runAlertsCommand: PlatformCommand = (argv, env = process.env) =>
  runReporting('alerts', alertsUsage, async () => {
    const { values, positionals } = parseCommandArgs(argv, options);
    const [action, ...rest] = positionals;
    if (values.help || !action) {
      console.log(alertsUsage);
      return values.help ? 0 : 2;
    }
    const monitoring = ServiceClient.of('monitoring', env);
    switch (action) {
      case 'ls':
      case 'list': {
        if (rest.length > 0) throw new UsageError(`ls takes no arguments (got "${rest.join(' ')}"); filter with --model and --status`);
        if (values.status !== undefined && !alertStatuses.includes(values.status)) throw new UsageError(`--status must be one of ${alertStatuses.join(', ')}`);
        if (values.limit !== undefined && !/^[1-9]\d*$/.test(values.limit)) throw new UsageError(`--limit "${values.limit}": expected a positive whole number`);
        const { alerts } = await monitoring.get<{ alerts: AlertJson[] }>('/v1/alerts', { modelName: values.model, status: values.status, limit: values.limit });
        if (values.json) {
          printJson({ alerts });
          return 0;
        }
        if (alerts.length === 0) {
          console.log('no alerts');
          return 0;
        }
        const rows = alerts.map((alert) => [alert.alertId, alert.kind, `${alert.modelName}:${alert.modelVersion}`, alert.monitorName, alert.severity, alert.status, time(alert.detectedAt), evidenceSummary(alert)]);
        for (const line of table(['ALERT', 'KIND', 'MODEL', 'MONITOR', 'SEVERITY', 'STATUS', 'DETECTED', 'EVIDENCE'], rows)) console.log(line);
        return 0;
      }
      case 'ack':
      case 'acknowledge': {
        if (rest.length !== 1) throw new UsageError('ack: give one alert id');
        const { body } = await monitoring.request<AlertJson>('POST', `/v1/alerts/${segment(rest[0]!)}/acknowledge`, {
          body: { actor: cliActor(env), ...(values.note ? { note: values.note } : {}) },
        });
        if (values.json) printJson(body);
        else for (const line of alertLines(body)) console.log(line);
        return 0;
      }
      case 'dismiss': {
        if (rest.length !== 1) throw new UsageError('dismiss: give one alert id');
        if (!values.reason?.trim()) throw new UsageError('dismiss: say why with --reason (it is kept with the alert)');
        const { body } = await monitoring.request<AlertJson>('POST', `/v1/alerts/${segment(rest[0]!)}/dismiss`, { body: { actor: cliActor(env), reason: values.reason.trim() } });
        if (values.json) printJson(body);
        else for (const line of alertLines(body)) console.log(line);
        return 0;
      }
      default:
        throw new UsageError(`unknown alerts command "${action}"`);
    }
  });
