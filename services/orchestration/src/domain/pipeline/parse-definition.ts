// Validation of a pipeline document (the JSON form of its YAML): every problem is reported with
// its exact place (`steps[3].inputs.trainingSetId`), all at once, so a user fixes a file in one
// round. A valid document comes out normalized (see pipeline-definition.ts).
import { ExpressionError, parseExpression, referencedPaths, type Expression, type JsonValue } from '../expressions/expression';
import { parseDuration } from './durations';
import {
  concurrencyPolicies,
  pipelineNamePattern,
  stepIdPattern,
  type ConcurrencyPolicy,
  type DefinitionEnvironment,
  type DefinitionProblem,
  type ParamSpec,
  type PipelineDefinition,
  type RetryPolicy,
  type StepDefinition,
  type TriggerDefinition,
} from './pipeline-definition';
import { isStepKindName, stepKindNames, stepKinds, valueTypes, type StepKindName, type ValueType } from './step-kinds';
import { parseTemplate, templateExpressions } from './templates';

export type ParseResult = { readonly ok: true; readonly definition: PipelineDefinition } | { readonly ok: false; readonly problems: readonly DefinitionProblem[] };

type Json = { readonly [key: string]: JsonValue };

const topLevelKeys = ['apiVersion', 'name', 'description', 'params', 'steps', 'triggers', 'outputs', 'codeVersion'];
const stepKeys = ['id', 'kind', 'dependsOn', 'inputs', 'when', 'retries', 'timeout', 'cache', 'codeVersion', 'command', 'env', 'outputs', 'description'];
const triggerKeys = ['name', 'schedule', 'timezone', 'event', 'where', 'params', 'concurrency', 'debounce'];
const runFields = ['id', 'pipelineName', 'pipelineVersion', 'triggerKind'];
const defaultRetry: RetryPolicy = { limit: 0, backoffMs: 1_000, factor: 2, maxBackoffMs: 600_000 };
const maxSteps = 500;

function isObject(value: JsonValue | undefined): value is Json {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value);
}

export function literalType(value: JsonValue): ValueType {
  if (value === null) return 'any';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'object';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as 'string' | 'boolean';
}

export function compatibleTypes(expected: ValueType, actual: ValueType): boolean {
  return expected === 'any' || actual === 'any' || expected === actual || (expected === 'number' && actual === 'integer');
}

/** What references may name in one place of the document. */
interface ReferenceContext {
  readonly params: Readonly<Record<string, ParamSpec>>;
  /** Step id → declared outputs, or undefined where steps may not be referenced. */
  readonly steps?: ReadonlyMap<string, Readonly<Record<string, ValueType>>>;
  /** The step being validated (it may not read its own outputs). */
  readonly self?: string;
  /** Event payload fields, where `event.*` may be read (event triggers). */
  readonly eventFields?: readonly string[];
  /** Whether `run.*` may be read. */
  readonly run: boolean;
}

/**
 * Checks the references of one expression; returns the type of a lone reference (for `${{ x }}`),
 * and adds the steps read to `reads`.
 */
function checkReferences(expression: Expression, path: string, context: ReferenceContext, problems: DefinitionProblem[], reads: Set<string>): void {
  for (const reference of referencedPaths(expression)) {
    const [root, name, section, field] = reference;
    const dotted = reference.join('.');
    switch (root) {
      case 'params':
        if (name === undefined) problems.push({ path, message: `"params" must name a parameter (params.<name>)` });
        else if (!Object.prototype.hasOwnProperty.call(context.params, name)) {
          problems.push({ path, message: `unknown parameter "${name}" in "${dotted}"; declared: ${Object.keys(context.params).join(', ') || 'none'}` });
        }
        break;
      case 'steps': {
        if (context.steps === undefined) {
          problems.push({ path, message: `step outputs cannot be read here ("${dotted}")` });
          break;
        }
        if (name === undefined || section !== 'outputs' || field === undefined) {
          problems.push({ path, message: `a step reference reads steps.<id>.outputs.<name>, got "${dotted}"` });
          break;
        }
        if (name === context.self) {
          problems.push({ path, message: `step "${name}" cannot read its own outputs` });
          break;
        }
        const outputs = context.steps.get(name);
        if (outputs === undefined) {
          problems.push({ path, message: `unknown step "${name}" in "${dotted}"` });
          break;
        }
        reads.add(name);
        if (!Object.prototype.hasOwnProperty.call(outputs, field)) {
          const known = Object.keys(outputs);
          problems.push({ path, message: `step "${name}" has no output "${field}"; its outputs: ${known.join(', ') || 'none declared'}` });
        }
        break;
      }
      case 'event':
        if (context.eventFields === undefined) problems.push({ path, message: `"event" can only be read by event triggers ("${dotted}")` });
        else if (name === undefined || !context.eventFields.includes(name)) {
          problems.push({ path, message: `the event has no field "${name ?? ''}"; its fields: ${context.eventFields.join(', ')}` });
        }
        break;
      case 'run':
        if (!context.run) problems.push({ path, message: `"run" cannot be read here` });
        else if (name === undefined || !runFields.includes(name)) problems.push({ path, message: `unknown run field "${name ?? ''}"; known: ${runFields.join(', ')}` });
        break;
      default:
        problems.push({
          path,
          message: `unknown name "${root}" in "${dotted}": references start with ${[context.steps ? 'steps' : undefined, 'params', context.eventFields ? 'event' : undefined, context.run ? 'run' : undefined].filter(Boolean).join(', ')}`,
        });
    }
  }
}

/** The static type of a lone `${{ x }}` reference, or 'any' when it cannot be told. */
function referenceType(expression: Expression, context: ReferenceContext): ValueType {
  if (expression.kind !== 'path') return 'any';
  const [root, name, section, field] = expression.path;
  if (root === 'params' && name !== undefined && expression.path.length === 2) return context.params[name]?.type ?? 'any';
  if (root === 'steps' && name !== undefined && section === 'outputs' && field !== undefined && expression.path.length === 4) {
    return context.steps?.get(name)?.[field] ?? 'any';
  }
  if (root === 'run' && name === 'pipelineVersion') return 'integer';
  if (root === 'run') return 'string';
  return 'any';
}

/** Validates a value that may hold references; checks its type against `expected`. */
function checkValue(value: JsonValue, expected: ValueType, path: string, context: ReferenceContext, problems: DefinitionProblem[], reads: Set<string>): void {
  let found: ReturnType<typeof templateExpressions>;
  try {
    found = templateExpressions(value, path);
  } catch (error) {
    problems.push({ path, message: `invalid reference: ${error instanceof Error ? error.message : String(error)}` });
    return;
  }
  for (const { path: at, expression } of found) checkReferences(expression, at, context, problems, reads);
  let actual: ValueType = literalType(value);
  if (typeof value === 'string') {
    const template = parseTemplateSafe(value);
    if (template?.kind === 'whole') actual = referenceType(template.expression, context);
  }
  if (!compatibleTypes(expected, actual)) problems.push({ path, message: `expected ${article(expected)} but got ${article(actual)}${typeof value === 'string' && value.includes('${{') ? ` (from ${value})` : ` (${JSON.stringify(value).slice(0, 60)})`}` });
}

function parseTemplateSafe(text: string): ReturnType<typeof parseTemplate> | undefined {
  try {
    return parseTemplate(text);
  } catch {
    return undefined;
  }
}

function article(type: ValueType): string {
  return type === 'any' ? 'any value' : type === 'integer' || type === 'object' ? `an ${type}` : `a ${type}`;
}

function parseCondition(source: JsonValue | undefined, path: string, problems: DefinitionProblem[]): Expression | undefined {
  if (source === undefined || source === null) return undefined;
  if (typeof source === 'boolean') return { kind: 'literal', value: source };
  if (typeof source !== 'string') {
    problems.push({ path, message: 'a condition is an expression text, e.g. steps.evaluate.outputs.passed == true' });
    return undefined;
  }
  // `${{ x }}` around a whole condition is tolerated (GitHub Actions habit).
  const stripped = source.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1');
  try {
    return parseExpression(stripped);
  } catch (error) {
    problems.push({ path, message: `invalid expression: ${error instanceof ExpressionError ? error.message : String(error)}` });
    return undefined;
  }
}

function unknownKeys(value: Json, allowed: readonly string[], path: string, problems: DefinitionProblem[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) problems.push({ path: path === '' ? key : `${path}.${key}`, message: `unknown field "${key}"; allowed: ${allowed.join(', ')}` });
  }
}

function parseParams(raw: JsonValue | undefined, problems: DefinitionProblem[]): Record<string, ParamSpec> {
  const params: Record<string, ParamSpec> = {};
  if (raw === undefined || raw === null) return params;
  if (!isObject(raw)) {
    problems.push({ path: 'params', message: 'params is a map of name → {type, default, required, description} (or name → type)' });
    return params;
  }
  for (const [name, spec] of Object.entries(raw)) {
    const path = `params.${name}`;
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) problems.push({ path, message: 'a parameter name is letters, digits and _ (starting with a letter or _)' });
    const object: Json = typeof spec === 'string' ? { type: spec } : isObject(spec) ? spec : {};
    if (!isObject(spec) && typeof spec !== 'string') problems.push({ path, message: 'expected {type, default?, required?, description?} or a type name' });
    unknownKeys(object, ['type', 'default', 'required', 'description'], path, problems);
    const type = object.type ?? 'any';
    if (typeof type !== 'string' || !(valueTypes as readonly string[]).includes(type)) {
      problems.push({ path: `${path}.type`, message: `unknown type ${JSON.stringify(type)}; expected one of ${valueTypes.join(', ')}` });
      continue;
    }
    const fallback = object.default ?? null;
    if (fallback !== null && !compatibleTypes(type as ValueType, literalType(fallback))) {
      problems.push({ path: `${path}.default`, message: `expected ${article(type as ValueType)} but got ${article(literalType(fallback))} (${JSON.stringify(fallback).slice(0, 60)})` });
    }
    const required = object.required ?? false;
    if (typeof required !== 'boolean') problems.push({ path: `${path}.required`, message: 'expected true or false' });
    const description = object.description ?? '';
    if (typeof description !== 'string') problems.push({ path: `${path}.description`, message: 'expected a text' });
    params[name] = { type: type as ValueType, required: required === true, default: fallback, description: typeof description === 'string' ? description : '' };
  }
  return params;
}

function parseRetry(raw: JsonValue | undefined, path: string, problems: DefinitionProblem[]): RetryPolicy {
  if (raw === undefined || raw === null) return defaultRetry;
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw) || raw < 0 || raw > 100) problems.push({ path, message: 'retries is an integer from 0 to 100, or {limit, backoff, factor, maxBackoff}' });
    return { ...defaultRetry, limit: Number.isInteger(raw) ? Math.max(0, Math.min(100, raw)) : 0 };
  }
  if (!isObject(raw)) {
    problems.push({ path, message: 'retries is an integer, or {limit, backoff, factor, maxBackoff}' });
    return defaultRetry;
  }
  unknownKeys(raw, ['limit', 'backoff', 'factor', 'maxBackoff'], path, problems);
  const limit = raw.limit ?? 0;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0 || limit > 100) problems.push({ path: `${path}.limit`, message: 'expected an integer from 0 to 100' });
  const factor = raw.factor ?? defaultRetry.factor;
  if (typeof factor !== 'number' || factor < 1 || factor > 10) problems.push({ path: `${path}.factor`, message: 'expected a number from 1 to 10' });
  const duration = (key: 'backoff' | 'maxBackoff', fallback: number): number => {
    if (raw[key] === undefined) return fallback;
    const parsed = parseDuration(raw[key]);
    if ('error' in parsed) {
      problems.push({ path: `${path}.${key}`, message: parsed.error });
      return fallback;
    }
    return parsed.ms;
  };
  return {
    limit: typeof limit === 'number' && Number.isInteger(limit) ? limit : 0,
    backoffMs: duration('backoff', defaultRetry.backoffMs),
    factor: typeof factor === 'number' ? factor : defaultRetry.factor,
    maxBackoffMs: duration('maxBackoff', defaultRetry.maxBackoffMs),
  };
}

interface RawStep {
  readonly index: number;
  readonly raw: Json;
  readonly id: string;
  readonly kind: StepKindName | undefined;
  readonly outputs: Readonly<Record<string, ValueType>>;
}

function declaredCommandOutputs(raw: JsonValue | undefined, path: string, problems: DefinitionProblem[]): Record<string, ValueType> {
  const outputs: Record<string, ValueType> = {};
  if (raw === undefined || raw === null) return outputs;
  if (Array.isArray(raw)) {
    raw.forEach((name, index) => {
      if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) problems.push({ path: `${path}[${index}]`, message: 'an output name is letters, digits and _' });
      else outputs[name] = 'any';
    });
    return outputs;
  }
  if (!isObject(raw)) {
    problems.push({ path, message: 'outputs is a list of names or a map of name → type' });
    return outputs;
  }
  for (const [name, type] of Object.entries(raw)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) problems.push({ path: `${path}.${name}`, message: 'an output name is letters, digits and _' });
    if (typeof type !== 'string' || !(valueTypes as readonly string[]).includes(type)) {
      problems.push({ path: `${path}.${name}`, message: `unknown type ${JSON.stringify(type)}; expected one of ${valueTypes.join(', ')}` });
      outputs[name] = 'any';
    } else outputs[name] = type as ValueType;
  }
  return outputs;
}

function catalogOutputs(kind: StepKindName): Record<string, ValueType> {
  return Object.fromEntries(Object.entries(stepKinds[kind].outputs).map(([name, spec]) => [name, spec.type]));
}

/** Validates and normalizes a pipeline document. */
export function parsePipelineDefinition(document: unknown, environment: DefinitionEnvironment): ParseResult {
  const problems: DefinitionProblem[] = [];
  const raw = document as JsonValue;
  if (!isObject(raw)) return { ok: false, problems: [{ path: '', message: 'a pipeline definition is a mapping with name, params, steps, triggers and outputs' }] };
  unknownKeys(raw, topLevelKeys, '', problems);

  const name = raw.name;
  if (typeof name !== 'string' || !pipelineNamePattern.test(name)) {
    problems.push({ path: 'name', message: 'required: lower-case letters, digits, ".", "_" and "-", starting with a letter or digit, at most 100 characters' });
  }
  const description = typeof raw.description === 'string' ? raw.description : '';
  if (raw.description !== undefined && typeof raw.description !== 'string') problems.push({ path: 'description', message: 'expected a text' });
  const codeVersion = raw.codeVersion === undefined || raw.codeVersion === null ? null : String(raw.codeVersion);
  const params = parseParams(raw.params, problems);

  // Steps: first their ids, kinds and outputs, so that references can be checked in any order.
  const rawSteps: RawStep[] = [];
  if (!Array.isArray(raw.steps) || raw.steps.length === 0) {
    problems.push({ path: 'steps', message: 'required: a non-empty list of steps' });
  } else if (raw.steps.length > maxSteps) {
    problems.push({ path: 'steps', message: `at most ${maxSteps} steps` });
  } else {
    const seen = new Map<string, number>();
    raw.steps.forEach((step, index) => {
      const path = `steps[${index}]`;
      if (!isObject(step)) {
        problems.push({ path, message: 'a step is a mapping with id, kind, inputs…' });
        return;
      }
      unknownKeys(step, stepKeys, path, problems);
      const id = step.id;
      if (typeof id !== 'string' || !stepIdPattern.test(id)) {
        problems.push({ path: `${path}.id`, message: 'required: letters, digits, "_" and "-", starting with a letter, at most 63 characters' });
        return;
      }
      const earlier = seen.get(id);
      if (earlier !== undefined) problems.push({ path: `${path}.id`, message: `duplicate step id "${id}" (also steps[${earlier}])` });
      seen.set(id, index);
      const kindName = step.kind;
      let kind: StepKindName | undefined;
      if (typeof kindName !== 'string' || !isStepKindName(kindName)) {
        problems.push({ path: `${path}.kind`, message: `unknown step kind ${JSON.stringify(kindName ?? null)}; expected one of ${stepKindNames.join(', ')}` });
      } else kind = kindName;
      const outputs = kind === 'command' ? declaredCommandOutputs(step.outputs, `${path}.outputs`, problems) : kind ? catalogOutputs(kind) : {};
      if (kind !== undefined && kind !== 'command') {
        for (const key of ['command', 'env', 'outputs']) if (step[key] !== undefined) problems.push({ path: `${path}.${key}`, message: `only command steps have "${key}"` });
      }
      if (earlier === undefined) rawSteps.push({ index, raw: step, id, kind, outputs });
    });
  }
  const stepOutputs = new Map(rawSteps.map((step) => [step.id, step.outputs]));

  const steps: StepDefinition[] = [];
  for (const step of rawSteps) {
    const path = `steps[${step.index}]`;
    const reads = new Set<string>();
    const context: ReferenceContext = { params, steps: stepOutputs, self: step.id, run: true };
    const inputs: Record<string, JsonValue> = {};
    const rawInputs = step.raw.inputs ?? {};
    if (!isObject(rawInputs)) problems.push({ path: `${path}.inputs`, message: 'inputs is a mapping of input name → value' });
    else if (step.kind !== undefined) {
      const spec = stepKinds[step.kind];
      for (const [inputName, value] of Object.entries(rawInputs)) {
        const inputPath = `${path}.inputs.${inputName}`;
        const field = spec.inputs[inputName];
        if (field === undefined && !spec.openInputs) {
          problems.push({ path: inputPath, message: `unknown input "${inputName}" of a ${step.kind} step; its inputs: ${Object.keys(spec.inputs).join(', ')}` });
          continue;
        }
        if (step.kind === 'command' && (inputName === 'command' || inputName === 'env')) {
          problems.push({ path: inputPath, message: `"${inputName}" is a field of the step, not an input` });
          continue;
        }
        checkValue(value, field?.type ?? 'any', inputPath, context, problems, reads);
        inputs[inputName] = value;
      }
      for (const [inputName, field] of Object.entries(spec.inputs)) {
        if (field.required && (rawInputs[inputName] === undefined || rawInputs[inputName] === null)) {
          problems.push({ path: `${path}.inputs.${inputName}`, message: `required input of a ${step.kind} step (${field.description})` });
        }
      }
    }
    if (step.kind === 'command') {
      const command = step.raw.command;
      if (typeof command === 'string' && command.trim() !== '') {
        checkValue(command, 'string', `${path}.command`, context, problems, reads);
        inputs.command = ['sh', '-c', command];
      } else if (Array.isArray(command) && command.length > 0 && command.every((part) => typeof part === 'string')) {
        command.forEach((part, index) => checkValue(part, 'any', `${path}.command[${index}]`, context, problems, reads));
        inputs.command = command;
      } else problems.push({ path: `${path}.command`, message: 'required: a list of program and arguments, or a shell command text' });
      const env = step.raw.env ?? {};
      if (!isObject(env)) problems.push({ path: `${path}.env`, message: 'env is a mapping of variable → text' });
      else {
        for (const [variable, value] of Object.entries(env)) {
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) problems.push({ path: `${path}.env.${variable}`, message: 'not a valid environment variable name' });
          checkValue(value, 'any', `${path}.env.${variable}`, context, problems, reads);
        }
        inputs.env = env;
      }
    }
    const whenPath = `${path}.when`;
    const when = parseCondition(step.raw.when, whenPath, problems);
    if (when !== undefined) checkReferences(when, whenPath, context, problems, reads);

    const explicit: string[] = [];
    const dependsOn = step.raw.dependsOn ?? [];
    if (!Array.isArray(dependsOn)) problems.push({ path: `${path}.dependsOn`, message: 'dependsOn is a list of step ids' });
    else {
      dependsOn.forEach((dependency, index) => {
        if (typeof dependency !== 'string' || !stepOutputs.has(dependency)) {
          problems.push({ path: `${path}.dependsOn[${index}]`, message: `unknown step ${JSON.stringify(dependency)}` });
        } else if (dependency === step.id) problems.push({ path: `${path}.dependsOn[${index}]`, message: 'a step cannot depend on itself' });
        else explicit.push(dependency);
      });
    }

    let timeoutMs: number | null = null;
    if (step.raw.timeout !== undefined && step.raw.timeout !== null) {
      const parsed = parseDuration(step.raw.timeout);
      if ('error' in parsed) problems.push({ path: `${path}.timeout`, message: parsed.error });
      else if (parsed.ms <= 0) problems.push({ path: `${path}.timeout`, message: 'a timeout must be longer than 0' });
      else timeoutMs = parsed.ms;
    }
    const cache = step.raw.cache;
    if (cache !== undefined && typeof cache !== 'boolean') problems.push({ path: `${path}.cache`, message: 'expected true or false' });
    const stepCode = step.raw.codeVersion;
    if (stepCode !== undefined && stepCode !== null && typeof stepCode !== 'string') problems.push({ path: `${path}.codeVersion`, message: 'expected a text' });
    if (step.kind === undefined) continue;
    steps.push({
      id: step.id,
      kind: step.kind,
      dependsOn: [...new Set([...explicit, ...reads])].sort(),
      inputs,
      when: when === undefined ? null : typeof step.raw.when === 'boolean' ? String(step.raw.when) : String(step.raw.when).trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1').trim(),
      retry: parseRetry(step.raw.retries, `${path}.retries`, problems),
      timeoutMs,
      cache: typeof cache === 'boolean' ? cache : stepKinds[step.kind].cacheByDefault,
      codeVersion: typeof stepCode === 'string' ? stepCode : null,
      outputs: step.outputs,
    });
  }

  const ordered = problems.length === 0 || steps.length === rawSteps.length ? orderSteps(steps, rawSteps, problems) : steps;

  const triggers = parseTriggers(raw.triggers, params, environment, problems);

  const outputs: Record<string, JsonValue> = {};
  if (raw.outputs !== undefined && raw.outputs !== null) {
    if (!isObject(raw.outputs)) problems.push({ path: 'outputs', message: 'outputs is a mapping of name → value (usually ${{ steps.<id>.outputs.<name> }})' });
    else {
      for (const [outputName, value] of Object.entries(raw.outputs)) {
        checkValue(value, 'any', `outputs.${outputName}`, { params, steps: stepOutputs, run: true }, problems, new Set());
        outputs[outputName] = value;
      }
    }
  }

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, definition: { name: name as string, description, params, steps: ordered, triggers, outputs, codeVersion } };
}

/** Topological order (stable by position); a cycle is reported with its path. */
function orderSteps(steps: readonly StepDefinition[], rawSteps: readonly RawStep[], problems: DefinitionProblem[]): StepDefinition[] {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const indexOf = new Map(rawSteps.map((step) => [step.id, step.index]));
  const state = new Map<string, 'visiting' | 'done'>();
  const ordered: StepDefinition[] = [];
  const stack: string[] = [];
  let cycleFound = false;
  const visit = (id: string): void => {
    if (cycleFound) return;
    const mark = state.get(id);
    if (mark === 'done') return;
    if (mark === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(id)), id];
      // Reported at the step where the cycle is entered first in the file, naming every step on it.
      const first = cycle.slice(0, -1).reduce((a, b) => ((indexOf.get(a) ?? 0) <= (indexOf.get(b) ?? 0) ? a : b));
      const start = cycle.indexOf(first);
      const rotated = [...cycle.slice(start, -1), ...cycle.slice(0, start), first];
      problems.push({ path: `steps[${indexOf.get(first)}].dependsOn`, message: `not a DAG: cycle ${rotated.join(' → ')}` });
      cycleFound = true;
      return;
    }
    const step = byId.get(id);
    if (step === undefined) return;
    state.set(id, 'visiting');
    stack.push(id);
    for (const dependency of step.dependsOn) visit(dependency);
    stack.pop();
    state.set(id, 'done');
    if (!cycleFound) ordered.push(step);
  };
  for (const step of steps) visit(step.id);
  return cycleFound ? [...steps] : ordered;
}

function parseTriggers(raw: JsonValue | undefined, params: Readonly<Record<string, ParamSpec>>, environment: DefinitionEnvironment, problems: DefinitionProblem[]): TriggerDefinition[] {
  const triggers: TriggerDefinition[] = [];
  if (raw === undefined || raw === null) return triggers;
  if (!Array.isArray(raw)) {
    problems.push({ path: 'triggers', message: 'triggers is a list of {schedule, timezone} or {event, where} entries' });
    return triggers;
  }
  const names = new Set<string>();
  raw.forEach((entry, index) => {
    const path = `triggers[${index}]`;
    if (!isObject(entry)) {
      problems.push({ path, message: 'a trigger is a mapping with schedule or event' });
      return;
    }
    unknownKeys(entry, triggerKeys, path, problems);
    const isSchedule = entry.schedule !== undefined;
    const isEvent = entry.event !== undefined;
    if (isSchedule === isEvent) {
      problems.push({ path, message: 'a trigger has exactly one of "schedule" (cron) and "event" (event type)' });
      return;
    }
    const name = entry.name ?? `${isSchedule ? 'schedule' : 'event'}-${index}`;
    if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]{0,62}$/.test(name)) problems.push({ path: `${path}.name`, message: 'letters, digits, "_" and "-", starting with a letter' });
    else if (names.has(name)) problems.push({ path: `${path}.name`, message: `duplicate trigger name "${name}"` });
    names.add(String(name));

    const concurrency = entry.concurrency ?? 'allow';
    if (typeof concurrency !== 'string' || !(concurrencyPolicies as readonly string[]).includes(concurrency)) {
      problems.push({ path: `${path}.concurrency`, message: `expected one of ${concurrencyPolicies.join(', ')}` });
    }
    let debounceMs = 0;
    if (entry.debounce !== undefined) {
      const parsed = parseDuration(entry.debounce);
      if ('error' in parsed) problems.push({ path: `${path}.debounce`, message: parsed.error });
      else debounceMs = parsed.ms;
    }

    let cron: string | null = null;
    let timezone: string | null = null;
    let eventType: string | null = null;
    let topic: string | null = null;
    let where: string | null = null;
    let eventFields: readonly string[] | undefined;
    if (isSchedule) {
      if (entry.where !== undefined) problems.push({ path: `${path}.where`, message: 'only event triggers have a filter' });
      const tz = entry.timezone ?? 'UTC';
      if (typeof entry.schedule !== 'string') problems.push({ path: `${path}.schedule`, message: 'a cron expression, e.g. "0 3 * * *"' });
      else if (typeof tz !== 'string') problems.push({ path: `${path}.timezone`, message: 'an IANA time zone, e.g. Europe/Paris' });
      else {
        const reason = environment.checkSchedule(entry.schedule, tz);
        if (reason !== undefined) problems.push({ path: `${path}.${/zone/i.test(reason) ? 'timezone' : 'schedule'}`, message: reason });
        cron = entry.schedule;
        timezone = tz;
      }
    } else {
      if (entry.timezone !== undefined) problems.push({ path: `${path}.timezone`, message: 'only schedules have a time zone' });
      if (typeof entry.event !== 'string') problems.push({ path: `${path}.event`, message: 'an event type, e.g. loopline.monitoring.v1.DriftDetected' });
      else {
        const found = environment.eventType(entry.event);
        if (found === undefined) problems.push({ path: `${path}.event`, message: `unknown event type "${entry.event}": not carried by any Loopline topic` });
        else if ('candidates' in found) problems.push({ path: `${path}.event`, message: `ambiguous event type "${entry.event}": write one of ${found.candidates.join(', ')}` });
        else {
          eventType = found.typeName;
          topic = found.topic;
          eventFields = found.fields;
        }
      }
      const condition = parseCondition(entry.where, `${path}.where`, problems);
      if (condition !== undefined && eventFields !== undefined) checkReferencesAsEvent(condition, `${path}.where`, params, eventFields, problems);
      if (condition !== undefined) where = String(entry.where).trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1').trim();
    }

    const runParams: Record<string, JsonValue> = {};
    if (entry.params !== undefined && entry.params !== null) {
      if (!isObject(entry.params)) problems.push({ path: `${path}.params`, message: 'params is a mapping of parameter → value' });
      else {
        for (const [param, value] of Object.entries(entry.params)) {
          const spec = params[param];
          if (spec === undefined) {
            problems.push({ path: `${path}.params.${param}`, message: `unknown parameter "${param}"; declared: ${Object.keys(params).join(', ') || 'none'}` });
            continue;
          }
          checkValue(value, spec.type, `${path}.params.${param}`, { params, run: false, eventFields: eventFields ?? (isEvent ? [] : undefined) }, problems, new Set());
          runParams[param] = value;
        }
      }
    }
    triggers.push({
      name: String(name),
      kind: isSchedule ? 'schedule' : 'event',
      cron,
      timezone,
      eventType,
      topic,
      where,
      params: runParams,
      concurrency: concurrency as ConcurrencyPolicy,
      debounceMs,
    });
  });
  return triggers;
}

/** In a filter, bare field names read the event (`modelName == "x"` is `event.modelName == "x"`). */
function checkReferencesAsEvent(condition: Expression, path: string, params: Readonly<Record<string, ParamSpec>>, fields: readonly string[], problems: DefinitionProblem[]): void {
  for (const reference of referencedPaths(condition)) {
    const [root, name] = reference;
    if (root === 'event') {
      if (name === undefined || !fields.includes(name)) problems.push({ path, message: `the event has no field "${name ?? ''}"; its fields: ${fields.join(', ')}` });
    } else if (root === 'params') {
      if (name === undefined || params[name] === undefined) problems.push({ path, message: `unknown parameter "${name ?? ''}"` });
    } else if (root !== undefined && !fields.includes(root)) {
      problems.push({ path, message: `the event has no field "${root}"; its fields: ${fields.join(', ')}` });
    }
  }
}
