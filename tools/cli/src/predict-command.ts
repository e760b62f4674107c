// `loopline predict <model>`: one prediction from serving (LOOPLINE_SERVING_URL, default
// http://127.0.0.1:8080), either with the model's inputs given on the command line (Open
// Inference Protocol, /v2/models/{name}/infer) or by entity, features joined from the online
// store by serving (/v1/models/{name}/predict).
import { keyValues, number, parseCommandArgs, printJson, runReporting, table, type PlatformCommand } from './cli-output';
import { segment, ServiceClient, UsageError } from './service-client';

export const predictUsage = `usage: loopline predict <model> --input <name>=<value> [--input …] [--version N] [--json]
       loopline predict <model> --entity <key>=<value> [--entity …] [--feature <name>=<value> …]
                                [--feature-service <name>] [--version N] [--json]

  --input     a model input (Open Inference Protocol): one value, a comma-separated list, or a
              JSON array; typed and shaped by the model's signature (e.g. --input features=0.1,0.2)
  --entity    an entity join key: serving reads the model's features from the online store
  --feature   a request-time feature, filling (or overriding) a model input by name
  --version   a given version instead of the one serving routes to (champion, canary, shadow)

Prints the outputs and the prediction id (\`loopline lineage <prediction-id>\` traces it).
Serving's URL comes from LOOPLINE_SERVING_URL, or http://127.0.0.1:8080.`;

const options = {
  input: { type: 'string', multiple: true, short: 'i' },
  entity: { type: 'string', multiple: true, short: 'e' },
  feature: { type: 'string', multiple: true, short: 'f' },
  'feature-service': { type: 'string' },
  version: { type: 'string' },
  id: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

interface TensorSpec {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

interface InferOutput {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: readonly unknown[];
}

interface InferResponse {
  readonly model_name: string;
  readonly model_version: string;
  readonly id?: string;
  readonly parameters?: { readonly prediction_id?: string };
  readonly outputs: readonly InferOutput[];
}

interface EntityPredictResponse {
  readonly predictionId: string;
  readonly modelName: string;
  readonly modelVersion: number | string;
  readonly trafficRole: string;
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly features: Readonly<Record<string, { readonly value: unknown; readonly status: string }>>;
}

export const runPredictCommand: PlatformCommand = (argv, env = process.env) =>
  runReporting('predict', predictUsage, async () => {
    const { values, positionals } = parseCommandArgs(argv, options);
    if (values.help) {
      console.log(predictUsage);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'which model?' : `one model at a time (got ${positionals.join(', ')})`);
    const model = positionals[0]!;
    const version = values.version;
    if (version !== undefined && !/^[1-9]\d*$/.test(version)) throw new UsageError(`--version "${version}": expected a version number`);
    const inputs = keyValues(values.input, '--input');
    const entities = keyValues(values.entity, '--entity');
    const features = keyValues(values.feature, '--feature');
    const serving = ServiceClient.of('serving', env);
    if (inputs.length > 0 && (entities.length > 0 || features.length > 0 || values['feature-service'])) {
      throw new UsageError('give either --input (the model inputs themselves) or --entity/--feature (features joined by serving), not both');
    }
    if (inputs.length > 0) return predictWithInputs(serving, model, version, inputs, values.id, values.json);
    if (entities.length > 0) return predictByEntity(serving, model, version, entities, features, values['feature-service'], values.id, values.json);
    if (features.length > 0) throw new UsageError('--feature fills inputs of a prediction by entity: give --entity too (or give every input with --input)');
    throw new UsageError('give the inputs (--input name=value) or the entity (--entity key=value)');
  });

const modelPath = (model: string, version: string | undefined) => `/models/${segment(model)}${version ? `/versions/${segment(version)}` : ''}`;

async function predictWithInputs(serving: ServiceClient, model: string, version: string | undefined, given: [string, string][], id: string | undefined, json: boolean): Promise<number> {
  const metadata = await serving.get<{ name: string; versions: string[]; inputs: TensorSpec[]; outputs: TensorSpec[] }>(`/v2${modelPath(model, version)}`);
  const byName = new Map(given);
  if (byName.size !== given.length) throw new UsageError(`an input is given twice: ${given.map(([name]) => name).filter((name, index, all) => all.indexOf(name) !== index).join(', ')}`);
  const expected = metadata.inputs.map((input) => input.name);
  const unknown = given.map(([name]) => name).filter((name) => !expected.includes(name));
  if (unknown.length > 0) throw new UsageError(`${model} has no input ${unknown.map((name) => `"${name}"`).join(', ')}; its inputs: ${describeInputs(metadata.inputs)}`);
  const missing = expected.filter((name) => !byName.has(name));
  if (missing.length > 0) throw new UsageError(`missing input ${missing.map((name) => `"${name}"`).join(', ')}; ${model}'s inputs: ${describeInputs(metadata.inputs)}`);
  const request = {
    ...(id ? { id } : {}),
    inputs: metadata.inputs.map((spec) => tensorInput(spec, byName.get(spec.name)!)),
  };
  const { body } = await serving.request<InferResponse>('POST', `/v2${modelPath(model, version)}/infer`, { body: request });
  // Without a request id, the response's id is the prediction id; with one, it is in the parameters.
  const predictionId = body.parameters?.prediction_id ?? body.id ?? '';
  if (json) {
    printJson({ predictionId, modelName: body.model_name, modelVersion: body.model_version, outputs: body.outputs });
    return 0;
  }
  console.log(`${body.model_name} v${body.model_version}  prediction ${predictionId}`);
  const rows = body.outputs.map((output) => [output.name, output.datatype, `[${output.shape.join(',')}]`, formatTensor(output)]);
  for (const line of table(['OUTPUT', 'TYPE', 'SHAPE', 'VALUE'], rows)) console.log(`  ${line}`);
  return 0;
}

function describeInputs(inputs: readonly TensorSpec[]): string {
  return inputs.map((input) => `${input.name} (${input.datatype}[${input.shape.map((dimension) => (dimension < 0 ? '?' : dimension)).join(',')}])`).join(', ');
}

/** The values of one `--input`: a JSON array (nested arrays are flattened row-major), or a comma-separated list. */
export function inputValues(text: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw new UsageError(`"${text}" is not a JSON array: ${error instanceof Error ? error.message : String(error)}`);
    }
    return (parsed as unknown[]).flat(Infinity as 1);
  }
  return trimmed === '' ? [''] : trimmed.split(',').map((value) => value.trim());
}

/** Builds the OIP input tensor of `spec` from the text given for it: typed values and a shape. */
export function tensorInput(spec: TensorSpec, text: string): { name: string; datatype: string; shape: number[]; data: unknown[] } {
  const values = inputValues(text).map((value) => typed(spec, value));
  const fixed = spec.shape.filter((dimension) => dimension >= 0).reduce((product, dimension) => product * dimension, 1);
  const variable = spec.shape.filter((dimension) => dimension < 0).length;
  let shape: number[];
  if (variable === 0) {
    if (values.length !== fixed) throw new UsageError(`input "${spec.name}" takes ${fixed} value${fixed === 1 ? '' : 's'} (shape [${spec.shape.join(',')}]), got ${values.length}`);
    shape = [...spec.shape];
  } else {
    if (fixed === 0 || values.length % fixed !== 0 || values.length === 0) {
      throw new UsageError(`input "${spec.name}" takes a multiple of ${fixed} values (shape [${spec.shape.map((dimension) => (dimension < 0 ? '?' : dimension)).join(',')}]), got ${values.length}`);
    }
    // The first variable dimension (the batch) takes the rows; any other is 1.
    let first = true;
    shape = spec.shape.map((dimension) => {
      if (dimension >= 0) return dimension;
      if (!first) return 1;
      first = false;
      return values.length / fixed;
    });
  }
  return { name: spec.name, datatype: spec.datatype, shape, data: values };
}

function typed(spec: TensorSpec, value: unknown): unknown {
  const datatype = spec.datatype.toUpperCase();
  if (datatype === 'BYTES') return typeof value === 'string' ? value : JSON.stringify(value);
  if (datatype === 'BOOL') {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    throw new UsageError(`input "${spec.name}" is BOOL: "${String(value)}" is not true or false`);
  }
  const numeric = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (Number.isNaN(numeric)) throw new UsageError(`input "${spec.name}" is ${spec.datatype}: "${String(value)}" is not a number`);
  if (/^U?INT/.test(datatype) && !Number.isInteger(numeric)) throw new UsageError(`input "${spec.name}" is ${spec.datatype}: "${String(value)}" is not a whole number`);
  return numeric;
}

function formatValue(value: unknown): string {
  return typeof value === 'number' ? number(value) : typeof value === 'string' ? value : JSON.stringify(value);
}

function formatTensor(output: InferOutput): string {
  const data = output.data ?? [];
  const width = output.shape.length >= 2 ? output.shape.slice(1).reduce((product, dimension) => product * dimension, 1) : 0;
  if (width > 1 && data.length > width) {
    const rows: string[] = [];
    for (let offset = 0; offset < data.length && rows.length < 10; offset += width) rows.push(`[${data.slice(offset, offset + width).map(formatValue).join(', ')}]`);
    return `${rows.join(' ')}${data.length / width > 10 ? ' …' : ''}`;
  }
  const shown = data.slice(0, 20).map(formatValue).join(', ');
  return data.length === 1 ? shown : `[${shown}${data.length > 20 ? ', …' : ''}]`;
}

/** `--feature` values: numbers and booleans as such, anything else as text. */
export function featureValue(text: string): unknown {
  if (text === 'true' || text === 'false') return text === 'true';
  if (text.trim() !== '' && !Number.isNaN(Number(text))) return Number(text);
  return text;
}

async function predictByEntity(
  serving: ServiceClient,
  model: string,
  version: string | undefined,
  entities: [string, string][],
  features: [string, string][],
  featureService: string | undefined,
  id: string | undefined,
  json: boolean,
): Promise<number> {
  const body = {
    ...(id ? { id } : {}),
    entities: Object.fromEntries(entities),
    ...(features.length > 0 ? { features: Object.fromEntries(features.map(([name, value]) => [name, featureValue(value)])) } : {}),
    ...(featureService ? { featureService } : {}),
  };
  const { body: result } = await serving.request<EntityPredictResponse>('POST', `/v1${modelPath(model, version)}/predict`, { body });
  if (json) {
    printJson(result);
    return 0;
  }
  console.log(`${result.modelName} v${result.modelVersion} (${result.trafficRole})  prediction ${result.predictionId}`);
  const outputs = Object.entries(result.outputs).map(([name, value]) => [name, Array.isArray(value) ? `[${value.map(formatValue).join(', ')}]` : formatValue(value)]);
  for (const line of table(['OUTPUT', 'VALUE'], outputs)) console.log(`  ${line}`);
  const featureRows = Object.entries(result.features ?? {}).map(([name, feature]) => [name, feature.value === null || feature.value === undefined ? '(null)' : formatValue(feature.value), feature.status]);
  if (featureRows.length > 0) {
    console.log('');
    for (const line of table(['FEATURE', 'VALUE', 'STATUS'], featureRows)) console.log(`  ${line}`);
  }
  return 0;
}
