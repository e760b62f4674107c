import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { prometheusContentType, type ServiceMetrics } from '@loopline/telemetry';
import { SERVICE_METRICS } from '../tokens';

@ApiTags('observability')
@Controller()
export class MetricsController {
  constructor(@Inject(SERVICE_METRICS) private readonly metrics: ServiceMetrics) {}

  @Get('metrics')
  @Header('Content-Type', prometheusContentType)
  @ApiOperation({ summary: 'Prometheus metrics of this process (text exposition format 0.0.4).' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ schema: { type: 'string' } })
  render(): Promise<string> {
    return this.metrics.render();
  }
}
