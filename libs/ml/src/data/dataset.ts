/**
 * Datasets as typed columns: numbers in a `Float64Array` (a missing value is `NaN`), categories
 * as strings (a missing value is `null`). Rows are addressed by index; selecting rows copies.
 */
export interface NumericColumn {
  readonly kind: 'numeric';
  readonly values: Float64Array;
}

export interface CategoricalColumn {
  readonly kind: 'categorical';
  readonly values: readonly (string | null)[];
}

export type Column = NumericColumn | CategoricalColumn;

export interface Dataset {
  readonly rowCount: number;
  /** By column name, in the order the source gave them. */
  readonly columns: ReadonlyMap<string, Column>;
}

export function numericColumn(values: ArrayLike<number | null | undefined>): NumericColumn {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i];
    out[i] = value === null || value === undefined ? Number.NaN : value;
  }
  return { kind: 'numeric', values: out };
}

export function categoricalColumn(values: readonly (string | null | undefined)[]): CategoricalColumn {
  return { kind: 'categorical', values: values.map((value) => (value === undefined ? null : value)) };
}

/** A dataset from columns, checking they all have the same length. */
export function createDataset(columns: Iterable<readonly [string, Column]>): Dataset {
  const map = new Map<string, Column>();
  let rowCount: number | undefined;
  for (const [name, column] of columns) {
    if (map.has(name)) throw new DatasetError(`column "${name}" appears twice`);
    if (rowCount === undefined) rowCount = column.values.length;
    else if (column.values.length !== rowCount) throw new DatasetError(`column "${name}" has ${column.values.length} rows, others have ${rowCount}`);
    map.set(name, column);
  }
  return { rowCount: rowCount ?? 0, columns: map };
}

export function getColumn(dataset: Dataset, name: string): Column {
  const column = dataset.columns.get(name);
  if (!column) throw new DatasetError(`the dataset has no column "${name}" (it has: ${[...dataset.columns.keys()].join(', ')})`);
  return column;
}

/** The rows at `indices`, in that order. */
export function selectRows(dataset: Dataset, indices: ArrayLike<number>): Dataset {
  const columns: [string, Column][] = [];
  for (const [name, column] of dataset.columns) {
    if (column.kind === 'numeric') {
      const values = new Float64Array(indices.length);
      for (let i = 0; i < indices.length; i += 1) values[i] = column.values[indices[i]!]!;
      columns.push([name, { kind: 'numeric', values }]);
    } else {
      const values: (string | null)[] = new Array(indices.length);
      for (let i = 0; i < indices.length; i += 1) values[i] = column.values[indices[i]!]!;
      columns.push([name, { kind: 'categorical', values }]);
    }
  }
  return { rowCount: indices.length, columns: new Map(columns) };
}

/** A problem with the data itself (missing column, wrong shape, unusable label). */
export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

/** The label as numbers: 0/1 for a binary task (booleans and "true"/"false" accepted), any finite number for regression. */
export function labelValues(dataset: Dataset, label: string, task: 'binary' | 'regression'): Float64Array {
  const column = getColumn(dataset, label);
  const out = new Float64Array(dataset.rowCount);
  for (let i = 0; i < dataset.rowCount; i += 1) {
    let value: number;
    if (column.kind === 'numeric') value = column.values[i]!;
    else {
      const text = column.values[i];
      value = text === 'true' ? 1 : text === 'false' ? 0 : text === null ? Number.NaN : Number(text);
    }
    if (!Number.isFinite(value)) throw new DatasetError(`label "${label}" is missing or not a number at row ${i}`);
    if (task === 'binary' && value !== 0 && value !== 1) throw new DatasetError(`label "${label}" must be 0/1 (or boolean) for binary classification; row ${i} has ${value}`);
    out[i] = value;
  }
  return out;
}
