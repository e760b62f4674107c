// The REST API of the monitoring service (`/v1`): labels in, predictions, model performance and
// stats, monitors, evaluations and backfills, alerts. Errors map to statuses in the host's one
// error filter (400 validation naming the field, 404 unknown, 409 illegal state, 503 unavailable).
import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { NotFoundError, ValidationError } from '@loopline/errors';
import { MonitoringApplication } from '../../application/monitoring-application';
import { ClickHouseLogStore } from '../clickhouse/log-store';
import { LabelPublisher } from '../kafka/label-publisher';
import { splitPredictionRef } from '../../domain/log/prediction-rows';
import { acknowledgeBody, alertsQuery, backfillBody, dismissBody, labelsBody, monitorSpecOf, parseBody, performanceQuery, statsQuery } from './request-schemas';
import { presentAlert, presentMonitor, presentPerformance, presentPrediction } from './presenters';

const actorPattern = /^[a-z]+:[\x21-\x7e]{1,200}$/;

@Controller('v1')
export class MonitoringController {
  constructor(
    @Inject(MonitoringApplication) private readonly monitoring: MonitoringApplication,
    @Inject(ClickHouseLogStore) private readonly log: ClickHouseLogStore,
    @Inject(LabelPublisher) private readonly labels: LabelPublisher,
  ) {}

  @Post('labels')
  @HttpCode(202)
  async sendLabels(@Body() body: unknown) {
    const { labels } = parseBody(labelsBody, body);
    const accepted = await this.labels.publish(
      labels.map((label) => ({ ...label, eventTime: new Date(label.eventTime) })),
      new Date(),
    );
    return { accepted };
  }

  @Get('predictions/:predictionId')
  async prediction(@Param('predictionId') predictionId: string) {
    const { predictionId: id, rowIndex } = splitPredictionRef(predictionId);
    const prediction = await this.log.prediction(id, rowIndex);
    if (!prediction) {
      throw new NotFoundError(`prediction "${predictionId}" is unknown (predictions arrive through Kafka: one made a moment ago may not be stored yet)`, { predictionId });
    }
    return presentPrediction(prediction);
  }

  @Get('models/:modelName/performance')
  async performance(@Param('modelName') modelName: string, @Query() query: unknown) {
    const parsed = parseBody(performanceQuery, query, 'query');
    const fromMs = parsed.from ? Date.parse(parsed.from) : null;
    const toMs = parsed.to ? Date.parse(parsed.to) : null;
    if (fromMs !== null && toMs !== null && toMs <= fromMs) throw new ValidationError('"to" must be after "from"', { field: 'to' });
    const targetName = parsed.targetName ?? (await this.log.labelTargets(modelName))[0] ?? null;
    const window = fromMs === null && toMs === null ? null : { kind: 'time' as const, startMs: fromMs ?? 0, endMs: toMs ?? 8_000_000_000_000 };
    const versions = await this.log.performance({ modelName, modelVersion: null, window, targetName });
    return presentPerformance(modelName, targetName, versions);
  }

  @Get('models/:modelName/stats')
  async stats(@Param('modelName') modelName: string, @Query() query: unknown) {
    const parsed = parseBody(statsQuery, query, 'query');
    const sinceMs = parsed.since ? Date.parse(parsed.since) : null;
    const stats = await this.log.stats(modelName, sinceMs);
    const spanStart = sinceMs ?? (stats.firstAt ? Date.parse(stats.firstAt) : null);
    const seconds = spanStart === null ? 0 : Math.max(1, (Date.now() - spanStart) / 1000);
    return {
      modelName,
      since: sinceMs === null ? stats.firstAt : new Date(sinceMs).toISOString(),
      predictions: stats.predictions,
      predictionsPerSecond: seconds === 0 ? 0 : stats.predictions / seconds,
      labelled: stats.labelled,
      lastPredictionAt: stats.lastAt,
      versions: stats.versions,
    };
  }

  // ------------------------------------------------------------------------------------------
  // monitors

  @Put('monitors/:name')
  async putMonitor(@Param('name') name: string, @Body() body: unknown) {
    return presentMonitor(await this.monitoring.putMonitor(monitorSpecOf(name, body)));
  }

  @Get('monitors')
  async monitors(@Query('modelName') modelName?: string) {
    return { monitors: (await this.monitoring.monitors(modelName || undefined)).map(presentMonitor) };
  }

  @Get('monitors/:name')
  async monitor(@Param('name') name: string) {
    return presentMonitor(await this.monitoring.monitor(name));
  }

  @Delete('monitors/:name')
  async deleteMonitor(@Param('name') name: string, @Headers('x-loopline-actor') actor?: string) {
    await this.monitoring.deleteMonitor(name, actor && actorPattern.test(actor) ? actor : 'anonymous');
    return { name, deleted: true };
  }

  @Post('monitors/:name/evaluate')
  @HttpCode(200)
  async evaluate(@Param('name') name: string) {
    return this.monitoring.evaluateNow(name);
  }

  @Post('monitors/:name/backfill')
  @HttpCode(200)
  async backfill(@Param('name') name: string, @Body() body: unknown) {
    const parsed = parseBody(backfillBody, body);
    const result = await this.monitoring.backfill(name, {
      ...(parsed.from ? { from: new Date(parsed.from) } : {}),
      ...(parsed.to ? { to: new Date(parsed.to) } : {}),
      raiseAlerts: parsed.raiseAlerts,
      maxWindows: parsed.maxWindows,
    });
    return { monitorName: name, modelVersion: result.version, windows: result.evaluations.length, evaluations: result.evaluations };
  }

  // ------------------------------------------------------------------------------------------
  // alerts

  @Get('alerts')
  async alerts(@Query() query: unknown) {
    const parsed = parseBody(alertsQuery, query, 'query');
    return { alerts: (await this.monitoring.alerts(parsed)).map(presentAlert) };
  }

  @Post('alerts/:alertId/acknowledge')
  @HttpCode(200)
  async acknowledge(@Param('alertId') alertId: string, @Body() body: unknown) {
    const parsed = parseBody(acknowledgeBody, body);
    return presentAlert(await this.monitoring.acknowledge(alertId, parsed.actor, parsed.note ?? ''));
  }

  @Post('alerts/:alertId/dismiss')
  @HttpCode(200)
  async dismiss(@Param('alertId') alertId: string, @Body() body: unknown) {
    const parsed = parseBody(dismissBody, body);
    return presentAlert(await this.monitoring.dismiss(alertId, parsed.actor, parsed.reason));
  }
}
