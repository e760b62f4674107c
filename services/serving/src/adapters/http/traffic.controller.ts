import { BadRequestException, Body, Controller, Get, HttpCode, Inject, Param, Put } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ValidationError } from '@loopline/errors';
import { parseTrafficPolicy, type TrafficPolicy } from '../../domain/traffic/traffic-policy';
import { ModelManager } from '../../application/model-manager';
import { TrafficPolicies } from '../../application/traffic-policies';

const policySchema = {
  type: 'object',
  properties: {
    canaryPercent: { type: 'number', minimum: 0, maximum: 100, description: 'Share of requests addressed to the model (not to a version) that its challenger answers.' },
    shadow: { type: 'boolean', description: 'The challenger also computes every request the champion answers; its outputs are logged, never returned.' },
  },
};

/**
 * Traffic policies between a model's champion and challenger on this instance. Setting one that
 * needs the challenger loads it in the background; the answer does not wait for the load.
 */
@ApiTags('traffic')
@Controller('v1/traffic')
export class TrafficController {
  constructor(
    @Inject(TrafficPolicies) private readonly policies: TrafficPolicies,
    @Inject(ModelManager) private readonly manager: ModelManager,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Every traffic policy set on this instance, by model name.' })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: policySchema } })
  list(): { policies: Record<string, TrafficPolicy> } {
    return { policies: this.policies.all() };
  }

  @Get(':model')
  @ApiOperation({ summary: "A model's traffic policy (the default, no canary and no shadow, when none was set)." })
  @ApiOkResponse({ schema: policySchema })
  get(@Param('model') model: string): TrafficPolicy {
    return this.policies.of(model);
  }

  @Put(':model')
  @HttpCode(200)
  @ApiOperation({ summary: "Sets a model's canary share and shadow mode." })
  @ApiBody({ schema: policySchema })
  @ApiOkResponse({ schema: policySchema })
  set(@Param('model') model: string, @Body() body: unknown): TrafficPolicy {
    let policy: TrafficPolicy;
    try {
      policy = parseTrafficPolicy(body);
    } catch (error) {
      if (error instanceof ValidationError) throw new BadRequestException({ error: error.message });
      throw error;
    }
    this.policies.set(model, policy);
    void this.manager.refresh(model);
    return policy;
  }
}
