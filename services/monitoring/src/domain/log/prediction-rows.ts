// How one logged prediction becomes rows of the prediction log: one row per predicted row of the
// batch, inputs split by type so SQL can aggregate per feature (numbers, strings, nulls), and the
// outputs reduced to what monitors score: the predicted label, the score (probability of the
// positive class) and the regression value. Pure: no clock, no I/O.

/** A JSON value as protobuf-es gives `google.protobuf.Struct` fields. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type TrafficRoleName = 'primary' | 'canary' | 'shadow' | 'unspecified';

export interface LoggedPrediction {
  readonly predictionId: string;
  readonly requestId: string;
  readonly modelName: string;
  readonly modelVersion: number;
  readonly alias: string;
  readonly trafficRole: TrafficRoleName;
  readonly inputs: { readonly [name: string]: Json };
  readonly outputs: { readonly [name: string]: Json };
  readonly entityKeys: Readonly<Record<string, string>>;
  /** The canonical entity key (`entityKey` of `@loopline/contracts`); '' when none. */
  readonly entityKey: string;
  readonly latencyMs: number;
  readonly predictedAtMs: number;
}

/** One row of the `predictions` table (column names as in ClickHouse). */
export interface PredictionRow {
  readonly prediction_id: string;
  readonly row_index: number;
  readonly model_name: string;
  readonly model_version: number;
  readonly request_id: string;
  readonly alias: string;
  readonly traffic_role: TrafficRoleName;
  readonly entity_key: string;
  readonly entity_keys: Readonly<Record<string, string>>;
  readonly num_inputs: Record<string, number>;
  readonly str_inputs: Record<string, string>;
  readonly null_inputs: string[];
  readonly predicted_label: string | null;
  readonly predicted_score: number | null;
  readonly predicted_value: number | null;
  readonly outputs: string;
  readonly latency_ms: number;
  readonly predicted_at: string;
}

/** Output names read as the predicted class, the positive-class score and the regression value. */
const labelOutputs = ['label', 'predicted_label', 'output_label', 'class', 'classes'];
const scoreOutputs = ['probabilities', 'probability', 'output_probability', 'scores', 'score', 'proba'];
const valueOutputs = ['prediction', 'predictions', 'value', 'variable', 'output', 'y'];

/** ClickHouse `DateTime64(3)` text of a UTC instant. */
export function clickhouseTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * The rows of one prediction. The batch size is the longest first dimension among the inputs
 * (outputs when there are no inputs); a tensor of shape [batch, 1] contributes one value per row,
 * one of shape [batch, k] the features `name[0]`…`name[k-1]`; a non-list input is shared by all rows.
 */
export function predictionRows(prediction: LoggedPrediction): PredictionRow[] {
  const rowCount = Math.max(1, batchSize(prediction.inputs), Object.keys(prediction.inputs).length === 0 ? batchSize(prediction.outputs) : 0);
  const rows: PredictionRow[] = [];
  const predictedAt = clickhouseTime(prediction.predictedAtMs);
  for (let index = 0; index < rowCount; index += 1) {
    const num: Record<string, number> = {};
    const str: Record<string, string> = {};
    const nulls: string[] = [];
    for (const [name, tensor] of Object.entries(prediction.inputs)) {
      flattenInto(name, rowValue(tensor, index), num, str, nulls);
    }
    const outputs: Record<string, Json> = {};
    for (const [name, tensor] of Object.entries(prediction.outputs)) outputs[name] = unwrap(rowValue(tensor, index));
    rows.push({
      prediction_id: prediction.predictionId,
      row_index: index,
      model_name: prediction.modelName,
      model_version: prediction.modelVersion,
      request_id: prediction.requestId,
      alias: prediction.alias,
      traffic_role: prediction.trafficRole,
      entity_key: prediction.entityKey,
      entity_keys: prediction.entityKeys,
      num_inputs: num,
      str_inputs: str,
      null_inputs: nulls,
      predicted_label: predictedLabel(outputs),
      predicted_score: predictedScore(outputs),
      predicted_value: predictedValue(outputs),
      outputs: JSON.stringify(outputs),
      latency_ms: Number.isFinite(prediction.latencyMs) ? prediction.latencyMs : 0,
      predicted_at: predictedAt,
    });
  }
  return rows;
}

function batchSize(tensors: { readonly [name: string]: Json }): number {
  let size = 0;
  for (const tensor of Object.values(tensors)) if (Array.isArray(tensor)) size = Math.max(size, tensor.length);
  return size;
}

function rowValue(tensor: Json, index: number): Json {
  if (!Array.isArray(tensor)) return tensor;
  return tensor[index] ?? null;
}

function unwrap(value: Json): Json {
  return Array.isArray(value) && value.length === 1 ? unwrap(value[0]!) : value;
}

function flattenInto(name: string, raw: Json, num: Record<string, number>, str: Record<string, string>, nulls: string[]): void {
  const value = unwrap(raw);
  if (Array.isArray(value)) {
    value.forEach((element, position) => flattenInto(`${name}[${position}]`, element, num, str, nulls));
    return;
  }
  if (value === null) nulls.push(name);
  else if (typeof value === 'number') {
    if (Number.isFinite(value)) num[name] = value;
    else nulls.push(name);
  } else if (typeof value === 'boolean') num[name] = value ? 1 : 0;
  else if (typeof value === 'string') str[name] = value;
  else str[name] = JSON.stringify(value);
}

function firstNamed(outputs: Record<string, Json>, names: readonly string[]): Json | undefined {
  for (const name of names) if (name in outputs) return outputs[name];
  const lower = new Map(Object.entries(outputs).map(([key, value]) => [key.toLowerCase(), value]));
  for (const name of names) if (lower.has(name)) return lower.get(name);
  return undefined;
}

/** The canonical text of a class: `true`/`false` (booleans or text) become `1`/`0`, numbers their shortest form. */
export function classText(value: Json | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    return lower === 'true' ? '1' : lower === 'false' ? '0' : value;
  }
  return null;
}

function predictedLabel(outputs: Record<string, Json>): string | null {
  return classText(unwrap(firstNamed(outputs, labelOutputs) ?? null));
}

/** Binary classifiers: the probability of class 1 (the second column); one column: that value; more: the largest. */
function predictedScore(outputs: Record<string, Json>): number | null {
  const value = unwrap(firstNamed(outputs, scoreOutputs) ?? null);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value) && value.every((element) => typeof element === 'number')) {
    const scores = value as number[];
    if (scores.length === 2) return scores[1]!;
    return scores.length > 0 ? Math.max(...scores) : null;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    // A ZipMap output ({"0": 0.2, "1": 0.8}).
    const positive = value['1'] ?? value['true'];
    return typeof positive === 'number' ? positive : null;
  }
  return null;
}

function predictedValue(outputs: Record<string, Json>): number | null {
  const value = unwrap(firstNamed(outputs, valueOutputs) ?? null);
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  // A single numeric output nobody named: a regressor.
  const entries = Object.values(outputs);
  if (entries.length === 1) {
    const only = unwrap(entries[0]!);
    if (typeof only === 'number' && Number.isFinite(only)) return only;
  }
  return null;
}

/** A ground-truth label as the `labels` table stores it. */
export interface LabelRow {
  readonly label_id: string;
  readonly prediction_id: string;
  readonly row_index: number;
  readonly model_name: string;
  readonly entity_key: string;
  readonly target_name: string;
  readonly value_text: string;
  readonly value_number: number | null;
  readonly event_time: string;
  readonly received_at: string;
}

export interface ReceivedLabel {
  /** The event id of the `LabelReceived` (its CloudEvents id): redelivery keeps it. */
  readonly labelId: string;
  /** `<prediction id>` or `<prediction id>:<row>` for a row of a batch prediction; '' when joined by entity. */
  readonly predictionId: string;
  readonly modelName: string;
  readonly entityKey: string;
  readonly targetName: string;
  readonly value: Json;
  readonly eventTimeMs: number;
  readonly receivedAtMs: number;
}

export function labelRow(label: ReceivedLabel): LabelRow {
  const { predictionId, rowIndex } = splitPredictionRef(label.predictionId);
  const text = classText(label.value) ?? (label.value === null ? '' : JSON.stringify(label.value));
  const number = typeof label.value === 'number' ? label.value : typeof label.value === 'boolean' ? (label.value ? 1 : 0) : numeric(text);
  return {
    label_id: label.labelId,
    prediction_id: predictionId,
    row_index: rowIndex,
    model_name: label.modelName,
    entity_key: predictionId === '' ? label.entityKey : '',
    target_name: label.targetName,
    value_text: text,
    value_number: number,
    event_time: clickhouseTime(label.eventTimeMs),
    received_at: clickhouseTime(label.receivedAtMs),
  };
}

/** `abc` → row 0 of prediction abc; `abc:3` → row 3 (a row of a batch request). */
export function splitPredictionRef(reference: string): { readonly predictionId: string; readonly rowIndex: number } {
  const match = /^(.*):(\d{1,9})$/.exec(reference);
  if (match) return { predictionId: match[1]!, rowIndex: Number(match[2]) };
  return { predictionId: reference, rowIndex: 0 };
}

function numeric(text: string): number | null {
  if (text.trim() === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}
