// The parameters of a run: the definition's defaults, overridden by the trigger's values, each
// checked against its declared type.
import { ValidationError } from '@loopline/errors';
import type { JsonValue } from '../expressions/expression';
import { compatibleTypes, literalType } from '../pipeline/parse-definition';
import type { PipelineDefinition } from '../pipeline/pipeline-definition';
import type { Json } from './pipeline-run';

export function resolveRunParams(definition: PipelineDefinition, given: Json): Json {
  const problems: { path: string; message: string }[] = [];
  const params: Record<string, JsonValue> = {};
  for (const [name, value] of Object.entries(given)) {
    const spec = definition.params[name];
    if (spec === undefined) {
      problems.push({ path: `params.${name}`, message: `unknown parameter "${name}" of pipeline ${definition.name}; declared: ${Object.keys(definition.params).join(', ') || 'none'}` });
      continue;
    }
    if (value !== null && !compatibleTypes(spec.type, literalType(value))) {
      problems.push({ path: `params.${name}`, message: `expected ${spec.type} but got ${literalType(value)} (${JSON.stringify(value).slice(0, 60)})` });
      continue;
    }
    params[name] = value;
  }
  for (const [name, spec] of Object.entries(definition.params)) {
    if (params[name] !== undefined && params[name] !== null) continue;
    if (spec.default !== null) params[name] = spec.default;
    else if (spec.required) problems.push({ path: `params.${name}`, message: `required parameter "${name}" has no value` });
    else params[name] = null;
  }
  if (problems.length > 0) throw new ValidationError(`invalid run parameters: ${problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ')}`, { problems });
  return params;
}
