// Parses a definitions file (YAML) into checked definitions. Every problem names its exact place:
// the path in the document (`feature_views[0].features[2].expression`) and the line and column in
// the file, so a user can jump to it. All problems are reported at once, not the first only.
import { isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import {
  aggregationFunctions,
  type AggregationFunction,
  columnPattern,
  namePattern,
  valueTypes,
  type DefinitionProblem,
  type DefinitionSet,
  type EntityDefinition,
  type FeatureDefinition,
  type FeatureServiceDefinition,
  type FeatureViewDefinition,
} from './definitions';
import { parseDuration } from './duration';
import { ExpressionError, inferType, parseExpression } from './expression';
import { parseFeatureRef } from './feature-refs';

const maxFileBytes = 1024 * 1024;
const name = z.string().regex(namePattern, 'must be lower-case letters, digits and "_", starting with a letter, at most 63 characters');
const columnName = z.string().regex(columnPattern, 'must be a plain column name (letters, digits and "_", not starting with a digit)');
const duration = z.string().refine((text) => parseDuration(text) !== undefined, 'must be a duration like 90s, 30m, 24h, 7d or 2w');
const description = z.string().max(2_000).default('');

const featureSchema = z
  .object({
    name,
    expression: z.string().min(1).max(2_000).optional(),
    type: z.enum(valueTypes as [string, ...string[]]).optional(),
    aggregate: z.enum(aggregationFunctions as [string, ...string[]]).optional(),
    window: duration.optional(),
    description,
  })
  .strict()
  .superRefine((feature, context) => {
    if (feature.expression === undefined) return;
    try {
      parseExpression(feature.expression);
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      context.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['expression'],
        message: `invalid expression: ${error.message} (at character ${error.offset + 1})`,
        params: { offset: error.offset },
      });
    }
  });

const fileSchema = z
  .object({
    entities: z
      .array(z.object({ name, join_keys: z.array(columnName).min(1).max(8), description }).strict())
      .max(1_000)
      .default([]),
    feature_views: z
      .array(
        z
          .object({
            name,
            entities: z.array(name).min(1).max(8),
            source: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'must be a data source name (lower-case letters, digits, ".", "_", "-")'),
            timestamp_column: columnName,
            ttl: duration.optional(),
            online: z.boolean().default(true),
            description,
            features: z.array(featureSchema).min(1).max(500),
          })
          .strict(),
      )
      .max(1_000)
      .default([]),
    feature_services: z
      .array(z.object({ name, description, features: z.array(z.string()).min(1).max(1_000) }).strict())
      .max(1_000)
      .default([]),
  })
  .strict();

type FileShape = z.infer<typeof fileSchema>;

/** A definitions file that could not be accepted; `problems` lists every reason with its place. */
export class DefinitionFileError extends Error {
  constructor(
    readonly fileName: string,
    readonly problems: readonly DefinitionProblem[],
  ) {
    super(`${fileName}: ${problems.length} problem(s):\n${problems.map((problem) => `  ${formatProblem(fileName, problem)}`).join('\n')}`);
  }
}

export function formatProblem(fileName: string, problem: DefinitionProblem): string {
  const where = problem.line === undefined ? fileName : `${fileName}:${problem.line}:${problem.column}`;
  return `${where} ${problem.path || '(document)'}: ${problem.message}`;
}

type PathSegment = string | number;

function pathText(path: readonly PathSegment[]): string {
  return path.reduce<string>((text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : text === '' ? segment : `${text}.${segment}`), '');
}

/**
 * Parses and checks a definitions file. Throws `DefinitionFileError` with every problem found:
 * YAML syntax, unknown or missing keys, bad names, durations and types, expressions that do not
 * parse, duplicate names, references to entities or features that do not exist.
 *
 * `known` resolves references to definitions applied earlier and absent from this file.
 */
export function parseDefinitionsFile(
  text: string,
  fileName: string,
  known: { readonly entity: (name: string) => EntityDefinition | undefined; readonly view: (name: string) => FeatureViewDefinition | undefined } = {
    entity: () => undefined,
    view: () => undefined,
  },
): DefinitionSet {
  if (Buffer.byteLength(text, 'utf8') > maxFileBytes) {
    throw new DefinitionFileError(fileName, [{ path: '', message: `the file is larger than ${maxFileBytes} bytes` }]);
  }
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: DefinitionProblem[] = [];
  for (const error of document.errors) {
    const position = lines.linePos(error.pos[0]);
    problems.push({ path: '', line: position.line, column: position.col, message: `YAML: ${error.message.split('\n')[0]}` });
  }
  if (problems.length > 0) throw new DefinitionFileError(fileName, problems);

  const at = (path: readonly PathSegment[], message: string, offsetInScalar?: number): DefinitionProblem => ({
    path: pathText(path),
    ...positionOf(document, lines, path, offsetInScalar),
    message,
  });

  const raw: unknown = document.toJS() ?? {};
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const message =
        issue.code === 'unrecognized_keys'
          ? `unknown key(s) ${issue.keys.map((key) => `"${key}"`).join(', ')}`
          : issue.code === 'invalid_type' && issue.received === 'undefined'
            ? 'is required'
            : issue.message;
      const offset = issue.code === 'custom' ? (issue.params as { offset?: number } | undefined)?.offset : undefined;
      problems.push(at(issue.path, message, offset));
    }
    throw new DefinitionFileError(fileName, problems);
  }
  const file: FileShape = parsed.data;

  const entities: EntityDefinition[] = [];
  const entityNames = new Map<string, EntityDefinition>();
  file.entities.forEach((entity, index) => {
    if (entityNames.has(entity.name)) problems.push(at(['entities', index, 'name'], `entity "${entity.name}" is defined twice`));
    if (new Set(entity.join_keys).size !== entity.join_keys.length) problems.push(at(['entities', index, 'join_keys'], 'join keys repeat'));
    const definition = { name: entity.name, joinKeys: entity.join_keys, description: entity.description };
    entityNames.set(entity.name, definition);
    entities.push(definition);
  });
  const entityOf = (entityName: string) => entityNames.get(entityName) ?? known.entity(entityName);

  const featureViews: FeatureViewDefinition[] = [];
  const viewNames = new Map<string, FeatureViewDefinition>();
  file.feature_views.forEach((view, viewIndex) => {
    const here = ['feature_views', viewIndex] as const;
    if (viewNames.has(view.name)) problems.push(at([...here, 'name'], `feature view "${view.name}" is defined twice`));
    const joinKeys = new Set<string>();
    view.entities.forEach((entityName, entityIndex) => {
      const entity = entityOf(entityName);
      if (!entity) problems.push(at([...here, 'entities', entityIndex], `unknown entity "${entityName}": define it under "entities"`));
      else entity.joinKeys.forEach((key) => joinKeys.add(key));
    });
    const features: FeatureDefinition[] = [];
    const featureNames = new Set<string>();
    view.features.forEach((feature, featureIndex) => {
      const place = [...here, 'features', featureIndex] as const;
      if (featureNames.has(feature.name)) problems.push(at([...place, 'name'], `feature "${feature.name}" is defined twice in view "${view.name}"`));
      featureNames.add(feature.name);
      if (joinKeys.has(feature.name) || feature.name === view.timestamp_column) {
        problems.push(at([...place, 'name'], `feature "${feature.name}" has the name of a join key or of the timestamp column`));
      }
      const aggregate = feature.aggregate as AggregationFunction | undefined;
      if (feature.aggregate && !feature.window) problems.push(at([...place], `aggregate "${feature.aggregate}" needs a "window" (e.g. 24h)`));
      if (!feature.aggregate && feature.window) problems.push(at([...place, 'window'], '"window" applies only to an aggregate feature: add "aggregate" (count, sum, mean, min or max)'));
      if (!feature.expression && feature.aggregate !== 'count') problems.push(at([...place], '"expression" is required (only a count may omit it)'));
      // Expressions parsed already (the schema checked them).
      const inferred = feature.expression ? inferType(parseExpression(feature.expression)) : undefined;
      if (feature.aggregate && feature.type && feature.type !== aggregateType(feature.aggregate)) {
        problems.push(at([...place, 'type'], `a ${feature.aggregate} is of type ${aggregateType(feature.aggregate)}; drop "type" or make it ${aggregateType(feature.aggregate)}`));
      }
      features.push({
        name: feature.name,
        expression: feature.expression ?? '1',
        type: feature.aggregate ? aggregateType(feature.aggregate) : ((feature.type as FeatureDefinition['type'] | undefined) ?? inferred ?? 'double'),
        aggregation: aggregate ? { function: aggregate, windowSeconds: parseDuration(feature.window ?? '') ?? 0 } : null,
        description: feature.description,
      });
    });
    const definition: FeatureViewDefinition = {
      name: view.name,
      entities: view.entities,
      source: view.source,
      timestampColumn: view.timestamp_column,
      ttlSeconds: view.ttl === undefined ? null : (parseDuration(view.ttl) ?? null),
      online: view.online,
      description: view.description,
      features,
    };
    viewNames.set(view.name, definition);
    featureViews.push(definition);
  });
  const viewOf = (viewName: string) => viewNames.get(viewName) ?? known.view(viewName);

  const featureServices: FeatureServiceDefinition[] = [];
  const serviceNames = new Set<string>();
  file.feature_services.forEach((service, serviceIndex) => {
    const here = ['feature_services', serviceIndex] as const;
    if (serviceNames.has(service.name)) problems.push(at([...here, 'name'], `feature service "${service.name}" is defined twice`));
    serviceNames.add(service.name);
    service.features.forEach((text, refIndex) => {
      const ref = parseFeatureRef(text);
      if (typeof ref === 'string') return void problems.push(at([...here, 'features', refIndex], ref));
      const view = viewOf(ref.view);
      if (!view) return void problems.push(at([...here, 'features', refIndex], `unknown feature view "${ref.view}"`));
      // A pinned version's features are checked when the file is planned against what is applied.
      if (ref.feature !== undefined && ref.version === undefined && !view.features.some((feature) => feature.name === ref.feature)) {
        problems.push(at([...here, 'features', refIndex], `feature view "${ref.view}" has no feature "${ref.feature}"`));
      }
    });
    featureServices.push({ name: service.name, description: service.description, features: service.features });
  });

  if (problems.length > 0) throw new DefinitionFileError(fileName, problems);
  return { entities, featureViews, featureServices };
}

export function aggregateType(aggregate: string): FeatureDefinition['type'] {
  return aggregate === 'count' ? 'int64' : 'double';
}

function positionOf(document: Document, lines: LineCounter, path: readonly PathSegment[], offsetInScalar?: number): { line?: number; column?: number } {
  // The deepest node that exists on the path: a missing key is reported at its parent.
  for (let length = path.length; length >= 0; length -= 1) {
    const node = length === 0 ? document.contents : document.getIn(path.slice(0, length), true);
    if (!node || typeof node !== 'object' || !('range' in node) || !node.range) continue;
    let offset = (node.range as [number, number, number])[0];
    if (length === path.length && offsetInScalar !== undefined && isScalar(node)) {
      const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 1 : 0;
      offset += quoted + offsetInScalar;
    }
    const position = lines.linePos(offset);
    return { line: position.line, column: position.col };
  }
  return {};
}
