import { defaultTrafficPolicy, type TrafficPolicy } from '../domain/traffic/traffic-policy';

/**
 * The traffic policy of each model on this instance: from configuration at start, changed at run
 * time through `PUT /v1/traffic/{model}`. Held in memory (serving owns nothing durable): every
 * replica is configured the same way, or told the same way.
 */
export class TrafficPolicies {
  private readonly policies = new Map<string, TrafficPolicy>();

  constructor(initial: Readonly<Record<string, TrafficPolicy>> = {}) {
    for (const [model, policy] of Object.entries(initial)) this.policies.set(model, policy);
  }

  of(modelName: string): TrafficPolicy {
    return this.policies.get(modelName) ?? defaultTrafficPolicy;
  }

  set(modelName: string, policy: TrafficPolicy): void {
    this.policies.set(modelName, policy);
  }

  all(): Record<string, TrafficPolicy> {
    return Object.fromEntries(this.policies);
  }
}
