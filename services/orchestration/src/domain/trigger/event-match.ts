// Whether an event matches an event trigger's filter, and the run parameters it yields. In a
// filter, bare names read the event's payload (`modelName == "x"`), `event.x` too, and
// `params.x` the pipeline's defaults.
import { evaluateCondition, objectScope, parseExpression, type JsonValue, type Scope } from '../expressions/expression';
import type { PipelineDefinition, TriggerDefinition } from '../pipeline/pipeline-definition';
import { resolveTemplates } from '../pipeline/templates';
import type { Json } from '../run/pipeline-run';

function defaults(definition: PipelineDefinition): Json {
  return Object.fromEntries(Object.entries(definition.params).map(([name, spec]) => [name, spec.default]));
}

function eventScope(definition: PipelineDefinition, payload: JsonValue, context: Json): Scope {
  const event = payload !== null && typeof payload === 'object' && !Array.isArray(payload) ? { ...(payload as Json), ...context } : context;
  const named = objectScope({ event, params: defaults(definition) });
  const bare = objectScope(event);
  return (path) => (path[0] === 'event' || path[0] === 'params' ? named(path) : bare(path));
}

/** Throws `ExpressionError` when the filter cannot be evaluated on this payload (the event is then not a match). */
export function eventMatches(definition: PipelineDefinition, trigger: TriggerDefinition, payload: JsonValue): boolean {
  if (trigger.where === null) return true;
  return evaluateCondition(parseExpression(trigger.where), eventScope(definition, payload, {}));
}

/** The trigger's params with `${{ event.x }}` resolved; `context` adds envelope facts (id, time, type). */
export function triggerParams(definition: PipelineDefinition, trigger: TriggerDefinition, payload: JsonValue, context: Json): Json {
  const scope = eventScope(definition, payload, context);
  return resolveTemplates(trigger.params as JsonValue, scope) as Json;
}

