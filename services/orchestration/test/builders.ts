// Builders shared by the orchestration specs: pipeline documents, a validation environment
// backed by the real topic registry, and run plans.
import { eventCatalog } from '../src/adapters/kafka/event-catalog';
import { checkSchedule } from '../src/adapters/scheduler/supervisor';
import { hashJson } from '../src/domain/pipeline/canonical';
import { parsePipelineDefinition } from '../src/domain/pipeline/parse-definition';
import type { DefinitionEnvironment, PipelineDefinition } from '../src/domain/pipeline/pipeline-definition';
import type { Json, RunPlan } from '../src/domain/run/pipeline-run';
import type { JsonValue } from '../src/domain/expressions/expression';

export const environment: DefinitionEnvironment = {
  eventType: (name) => eventCatalog.eventType(name),
  checkSchedule,
};

export function definitionOf(document: unknown): PipelineDefinition {
  const parsed = parsePipelineDefinition(document, environment);
  if (!parsed.ok) throw new Error(`invalid test pipeline: ${JSON.stringify(parsed.problems)}`);
  return parsed.definition;
}

export function planOf(document: unknown, params: Json = {}, settings = { resultGraceMs: 1_000, defaultTimeoutMs: 60_000 }): RunPlan {
  const definition = definitionOf(document);
  const defaults: Record<string, JsonValue> = Object.fromEntries(Object.entries(definition.params).map(([name, spec]) => [name, spec.default]));
  return {
    pipelineName: definition.name,
    pipelineVersion: 1,
    definitionHash: hashJson(document as JsonValue),
    definition,
    params: { ...defaults, ...params },
    trigger: { kind: 'manual', actor: 'user:test', triggerName: null, eventType: null, eventId: null },
    codeVersion: 'test-commit',
    settings,
  };
}

/** A `command` step that prints its id (commands never run in unit specs). */
export function commandStep(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, kind: 'command', command: ['echo', id], ...extra };
}
