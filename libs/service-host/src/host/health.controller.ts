import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { readinessBody, type ReadinessBody } from '../readiness/readiness';
import { ReadinessMonitor } from '../readiness/readiness-monitor';

const checksSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['name', 'ok', 'detail'],
    properties: {
      name: { type: 'string', example: 'postgres' },
      ok: { type: 'boolean' },
      detail: { type: 'string', example: 'LOOPLINE_POSTGRES_URL is not configured' },
    },
  },
};

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly readiness: ReadinessMonitor) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers. Never waits on dependencies.' })
  @ApiOkResponse({ schema: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['live'] } } } })
  live(): { status: 'live' } {
    return { status: 'live' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: every dependency of the service answers (Postgres, Kafka, ClickHouse as it uses them).' })
  @ApiOkResponse({ schema: { type: 'object', properties: { status: { type: 'string', enum: ['ready'] }, checks: checksSchema } } })
  @ApiServiceUnavailableResponse({ schema: { type: 'object', properties: { status: { type: 'string', enum: ['not_ready'] }, checks: checksSchema } } })
  async ready(): Promise<ReadinessBody> {
    const report = await this.readiness.evaluate();
    const body = readinessBody(report);
    if (!report.ready) throw new ServiceUnavailableException(body);
    return body;
  }
}
