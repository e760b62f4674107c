// Histogram-based gradient-boosted decision trees (the LightGBM recipe, in TypeScript): features
// quantile-binned once into ≤ 255 bins (row-major Uint8), per-leaf gradient/hessian histograms,
// the smaller child's histogram built and the larger one's obtained by subtraction, leaf-wise
// (best-first) or depth-wise growth, learned missing-value directions, L2-regularised leaves,
// float32 gradients and count-free histograms (as LightGBM).
// Histograms are built on one or two threads (histogram-builder.ts) with the same sums either
// way; nothing else is random but the seeded feature sampling, so the same data, params and seed
// always give the same trees, bit for bit, on any machine.
import type { onnx } from 'onnx-proto';
import type { FeatureSpec } from '../../data/features';
import { Prng } from '../../random/prng';
import { attribute, encodeModel, floats, FLOAT, INT64, ints, node, tensorValue } from '../../onnx/onnx-builder';
import { featureInputs, featureMatrixName } from '../../onnx/feature-inputs';
import { logistic32, numberParam, ParamsError, rejectUnknownParams, stringParam, type ExportInfo, type FeatureImportance, type Task, type TrainedModel } from '../model';
import { binValues, fitBinMapper, type BinMapper } from './binning';
import { createHistogramBuilder, histogramMemory } from './histogram-builder';

export interface GbdtParams {
  /** Boosting rounds (trees). LightGBM `num_iterations`. */
  readonly rounds: number;
  readonly learningRate: number;
  /** Most leaves per tree. LightGBM `num_leaves`. */
  readonly numLeaves: number;
  /** Deepest a leaf may be; −1 for no limit. */
  readonly maxDepth: number;
  readonly minDataInLeaf: number;
  readonly minSumHessianInLeaf: number;
  /** L2 regularisation of leaf values. LightGBM `lambda_l2`. */
  readonly lambdaL2: number;
  readonly minGainToSplit: number;
  /** Most bins per feature (2–255). */
  readonly maxBins: number;
  /** `leafwise`: split the leaf with the best gain next (LightGBM); `depthwise`: level by level (XGBoost). */
  readonly growth: 'leafwise' | 'depthwise';
  /** Share of features each tree may split on, drawn with the seed. */
  readonly featureFraction: number;
  /** Rows sampled to find bin edges. */
  readonly binSampleSize: number;
}

export const gbdtParamNames = [
  'rounds',
  'learningRate',
  'numLeaves',
  'maxDepth',
  'minDataInLeaf',
  'minSumHessianInLeaf',
  'lambdaL2',
  'minGainToSplit',
  'maxBins',
  'growth',
  'featureFraction',
  'binSampleSize',
] as const;

export function parseGbdtParams(params: Readonly<Record<string, unknown>>): GbdtParams {
  rejectUnknownParams(params, gbdtParamNames);
  return {
    rounds: numberParam(params, 'rounds', 100, { min: 1, max: 100_000, integer: true }),
    learningRate: numberParam(params, 'learningRate', 0.1, { min: 1e-6, max: 10 }),
    numLeaves: numberParam(params, 'numLeaves', 31, { min: 2, max: 131_072, integer: true }),
    maxDepth: numberParam(params, 'maxDepth', -1, { min: -1, max: 64, integer: true }),
    minDataInLeaf: numberParam(params, 'minDataInLeaf', 20, { min: 1, integer: true }),
    minSumHessianInLeaf: numberParam(params, 'minSumHessianInLeaf', 1e-3, { min: 0 }),
    lambdaL2: numberParam(params, 'lambdaL2', 0, { min: 0 }),
    minGainToSplit: numberParam(params, 'minGainToSplit', 0, { min: 0 }),
    maxBins: numberParam(params, 'maxBins', 255, { min: 2, max: 255, integer: true }),
    growth: stringParam(params, 'growth', ['leafwise', 'depthwise'], 'leafwise'),
    featureFraction: numberParam(params, 'featureFraction', 1, { min: 1e-6, max: 1 }),
    binSampleSize: numberParam(params, 'binSampleSize', 200_000, { min: 100, integer: true }),
  };
}

/** One tree, flattened in depth-first preorder (node 0 is the root). */
export interface FlatTree {
  /** Feature index of a split node; −1 for a leaf. */
  readonly feature: Int32Array;
  readonly threshold: Float32Array;
  /** 1 when a missing value (NaN) takes the `x ≤ threshold` branch. */
  readonly missingLeft: Uint8Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Leaf values (float32), the base score folded into the first tree's. */
  readonly value: Float32Array;
}

interface GrowingNode {
  leaf: boolean;
  value: number;
  feature: number;
  threshold: number;
  missingLeft: boolean;
  left: GrowingNode | null;
  right: GrowingNode | null;
}

interface SplitCandidate {
  readonly gain: number;
  readonly feature: number;
  readonly bin: number;
  readonly missingLeft: boolean;
  readonly leftG: number;
  readonly leftH: number;
}

interface Leaf {
  readonly begin: number;
  readonly end: number;
  readonly depth: number;
  readonly hist: Float64Array;
  readonly g: number;
  readonly h: number;
  readonly c: number;
  readonly node: GrowingNode;
  best: SplitCandidate | null;
}

export interface GbdtTrainingInput {
  readonly task: Task;
  readonly features: readonly FeatureSpec[];
  /** Encoded feature columns (see `encodeFeatures`), all rows of the dataset. */
  readonly columns: readonly Float32Array[];
  /** Labels of all rows (0/1 for binary). */
  readonly labels: ArrayLike<number>;
  /** The rows to learn from. */
  readonly rows: ArrayLike<number>;
  readonly params: GbdtParams;
  readonly seed: number;
  /** Threads building histograms (1 or 2; default 1). The model does not depend on it. */
  readonly threads?: number;
}

export function trainGbdt(input: GbdtTrainingInput): GbdtModel {
  const { params, task } = input;
  const featureCount = input.columns.length;
  const n = input.rows.length;
  if (n === 0) throw new ParamsError('no training rows');
  const threads = Math.min(2, Math.max(1, input.threads ?? 1));

  // Bins, row-major over the training rows only (row k = input.rows[k]).
  const mappers: BinMapper[] = input.columns.map((column, f) => fitBinMapper(column, input.rows, params.maxBins, params.binSampleSize, input.seed + f));
  const bins = new Uint8Array(histogramMemory(n * featureCount, threads));
  for (let f = 0; f < featureCount; f += 1) {
    const column = input.columns[f]!;
    const subset = new Float32Array(n);
    for (let k = 0; k < n; k += 1) subset[k] = column[input.rows[k]!]!;
    binValues(mappers[f]!, subset, bins, featureCount, f);
  }
  // Histogram layout: per feature, its bins then its missing bin; 2 numbers per bin (g, h). Row
  // counts per bin are not accumulated: as in LightGBM, the split search estimates them from the
  // hessian (count ≈ h · leaf count / leaf hessian; exact for squared loss), and the children's
  // real counts come from the partition.
  const offsets = new Int32Array(featureCount);
  let totalBins = 0;
  for (let f = 0; f < featureCount; f += 1) {
    offsets[f] = totalBins;
    totalBins += mappers[f]!.binCount + 1;
  }

  const y = new Float64Array(n);
  let labelSum = 0;
  for (let k = 0; k < n; k += 1) {
    y[k] = input.labels[input.rows[k]!]!;
    labelSum += y[k]!;
  }
  const mean = labelSum / n;
  const clipped = Math.min(1 - 1e-12, Math.max(1e-12, mean));
  const baseScore = task === 'binary' ? Math.log(clipped / (1 - clipped)) : mean;
  const scores = new Float64Array(n).fill(baseScore);
  // Gradient and hessian of row k at [2k] and [2k + 1] (float32, as LightGBM keeps them).
  const gradHess = new Float32Array(histogramMemory(2 * n * 4, threads));
  const indices = new Uint32Array(histogramMemory(n * 4, threads));
  const scratch = new Uint32Array(n);
  const pool: Float64Array[] = [];
  const takeHist = () => pool.pop()?.fill(0) ?? new Float64Array(totalBins * 2);
  const prng = new Prng(input.seed);
  const gainByFeature = new Float64Array(featureCount);
  const splitsByFeature = new Float64Array(featureCount);
  const trees: FlatTree[] = [];
  const allowed = new Uint8Array(featureCount);
  const lambda = params.lambdaL2;
  const histograms = createHistogramBuilder({ bins, gradHess, indices, offsets, featureCount, histogramLength: totalBins * 2 }, threads);

  const findBest = (leaf: Leaf): SplitCandidate | null => {
    if (params.maxDepth >= 0 && leaf.depth >= params.maxDepth) return null;
    if (leaf.c < 2 * params.minDataInLeaf) return null;
    const parentScore = (leaf.g * leaf.g) / (leaf.h + lambda);
    const countPerHessian = leaf.c / leaf.h;
    let best: SplitCandidate | null = null;
    let bestGain = params.minGainToSplit;
    const hist = leaf.hist;
    for (let f = 0; f < featureCount; f += 1) {
      if (!allowed[f]) continue;
      const binCount = mappers[f]!.binCount;
      const start = offsets[f]! * 2;
      const missing = start + binCount * 2;
      const mg = hist[missing]!;
      const mh = hist[missing + 1]!;
      for (let direction = 0; direction < (mh > 0 ? 2 : 1); direction += 1) {
        const missingLeft = direction === 1;
        let lg = missingLeft ? mg : 0;
        let lh = missingLeft ? mh : 0;
        for (let b = 0; b < binCount - 1; b += 1) {
          const at = start + b * 2;
          lg += hist[at]!;
          lh += hist[at + 1]!;
          const lc = Math.round(lh * countPerHessian);
          if (lc < params.minDataInLeaf || lh < params.minSumHessianInLeaf) continue;
          const rh = leaf.h - lh;
          if (leaf.c - lc < params.minDataInLeaf) break;
          if (rh < params.minSumHessianInLeaf) continue;
          const rg = leaf.g - lg;
          const gain = (lg * lg) / (lh + lambda) + (rg * rg) / (rh + lambda) - parentScore;
          if (gain > bestGain) {
            bestGain = gain;
            best = { gain, feature: f, bin: b, missingLeft, leftG: lg, leftH: lh };
          }
        }
      }
    }
    return best;
  };

  const leafValue = (g: number, h: number) => (-g / (h + lambda)) * params.learningRate;

  try {
    for (let round = 0; round < params.rounds; round += 1) {
      if (task === 'binary') logisticGradients(scores, y, gradHess);
      else squaredGradients(scores, y, gradHess);
      selectFeatures(allowed, params.featureFraction, prng);
      for (let k = 0; k < n; k += 1) indices[k] = k;

      let g = 0;
      let h = 0;
      for (let k = 0; k < n; k += 1) {
        g += gradHess[2 * k]!;
        h += gradHess[2 * k + 1]!;
      }
      const rootNode: GrowingNode = { leaf: true, value: 0, feature: -1, threshold: 0, missingLeft: false, left: null, right: null };
      const rootHist = takeHist();
      histograms.build(rootHist, 0, n);
      const root: Leaf = { begin: 0, end: n, depth: 0, hist: rootHist, g, h, c: n, node: rootNode, best: null };
      root.best = findBest(root);
      const leaves: Leaf[] = [root];

      while (leaves.length < params.numLeaves) {
        let chosen = -1;
        for (let i = 0; i < leaves.length; i += 1) {
          const candidate = leaves[i]!;
          if (!candidate.best) continue;
          if (chosen < 0) {
            chosen = i;
            continue;
          }
          const current = leaves[chosen]!;
          const better =
            params.growth === 'depthwise'
              ? candidate.depth < current.depth || (candidate.depth === current.depth && candidate.best.gain > current.best!.gain)
              : candidate.best.gain > current.best!.gain;
          if (better) chosen = i;
        }
        if (chosen < 0) break;
        const leaf = leaves[chosen]!;
        const split = leaf.best!;
        const f = split.feature;
        const mid = partitionRows(indices, scratch, leaf.begin, leaf.end, bins, featureCount, f, split.bin, split.missingLeft ? 1 : 0, mappers[f]!.missingBin);

        const leftNode: GrowingNode = { leaf: true, value: 0, feature: -1, threshold: 0, missingLeft: false, left: null, right: null };
        const rightNode: GrowingNode = { leaf: true, value: 0, feature: -1, threshold: 0, missingLeft: false, left: null, right: null };
        Object.assign(leaf.node, { leaf: false, feature: f, threshold: mappers[f]!.upperEdges[split.bin]!, missingLeft: split.missingLeft, left: leftNode, right: rightNode });
        gainByFeature[f] += split.gain;
        splitsByFeature[f] += 1;

        const leftCount = mid - leaf.begin;
        const rightCount = leaf.end - mid;
        const smallerIsLeft = leftCount <= rightCount;
        const smallHist = takeHist();
        if (smallerIsLeft) histograms.build(smallHist, leaf.begin, mid);
        else histograms.build(smallHist, mid, leaf.end);
        const largeHist = leaf.hist;
        subtract(largeHist, smallHist);
        const leftHist = smallerIsLeft ? smallHist : largeHist;
        const rightHist = smallerIsLeft ? largeHist : smallHist;
        const depth = leaf.depth + 1;
        const left: Leaf = { begin: leaf.begin, end: mid, depth, hist: leftHist, g: split.leftG, h: split.leftH, c: leftCount, node: leftNode, best: null };
        const right: Leaf = { begin: mid, end: leaf.end, depth, hist: rightHist, g: leaf.g - split.leftG, h: leaf.h - split.leftH, c: rightCount, node: rightNode, best: null };
        left.best = findBest(left);
        right.best = findBest(right);
        leaves.splice(chosen, 1, left, right);
      }

      for (const leaf of leaves) {
        const value = Math.fround(leafValue(leaf.g, leaf.h));
        leaf.node.value = value;
        addLeafValue(scores, indices, leaf.begin, leaf.end, value);
        pool.push(leaf.hist);
      }
      trees.push(flatten(rootNode));
    }
  } finally {
    histograms.close();
  }

  // The base score rides in the first tree's leaves (as LightGBM's ONNX converters do), so the
  // ONNX ensemble needs no base_values.
  const first = trees[0]!;
  for (let i = 0; i < first.value.length; i += 1) if (first.feature[i]! < 0) first.value[i] = Math.fround(first.value[i]! + baseScore);

  const importance = input.features.map((spec, f) => ({ feature: spec.name, gain: gainByFeature[f]!, splits: splitsByFeature[f]! }));
  return new GbdtModel(task, input.features, trees, importance);
}

// The hot loops, as plain functions of typed arrays (monomorphic, no closure state), so V8
// optimises them well.

function subtract(large: Float64Array, small: Float64Array): void {
  for (let i = 0; i < large.length; i += 1) large[i] -= small[i]!;
}

function logisticGradients(scores: Float64Array, y: Float64Array, gradHess: Float32Array): void {
  for (let k = 0; k < scores.length; k += 1) {
    const p = 1 / (1 + Math.exp(-scores[k]!));
    gradHess[2 * k] = p - y[k]!;
    gradHess[2 * k + 1] = Math.max(p * (1 - p), 1e-16);
  }
}

function squaredGradients(scores: Float64Array, y: Float64Array, gradHess: Float32Array): void {
  for (let k = 0; k < scores.length; k += 1) {
    gradHess[2 * k] = scores[k]! - y[k]!;
    gradHess[2 * k + 1] = 1;
  }
}

/** Stable partition of a leaf's rows: left ones compacted in place, right ones via scratch. Returns the boundary. */
function partitionRows(
  indices: Uint32Array,
  scratch: Uint32Array,
  begin: number,
  end: number,
  bins: Uint8Array,
  featureCount: number,
  f: number,
  splitBin: number,
  missingLeft: number,
  missingBin: number,
): number {
  let write = begin;
  let spill = 0;
  for (let k = begin; k < end; k += 1) {
    const r = indices[k]!;
    const bin = bins[r * featureCount + f]!;
    const goesLeft = bin === missingBin ? missingLeft === 1 : bin <= splitBin;
    if (goesLeft) indices[write++] = r;
    else scratch[spill++] = r;
  }
  indices.set(scratch.subarray(0, spill), write);
  return write;
}

function addLeafValue(scores: Float64Array, indices: Uint32Array, begin: number, end: number, value: number): void {
  for (let k = begin; k < end; k += 1) scores[indices[k]!] += value;
}

function selectFeatures(allowed: Uint8Array, fraction: number, prng: Prng): void {
  if (fraction >= 1) {
    allowed.fill(1);
    return;
  }
  const count = Math.max(1, Math.round(allowed.length * fraction));
  const order = prng.shuffle(Array.from({ length: allowed.length }, (_, index) => index));
  allowed.fill(0);
  for (let i = 0; i < count; i += 1) allowed[order[i]!] = 1;
}

function flatten(root: GrowingNode): FlatTree {
  const nodes: GrowingNode[] = [];
  const visit = (node: GrowingNode) => {
    nodes.push(node);
    if (!node.leaf) {
      visit(node.left!);
      visit(node.right!);
    }
  };
  visit(root);
  const index = new Map(nodes.map((node, i) => [node, i]));
  return {
    feature: Int32Array.from(nodes, (node) => (node.leaf ? -1 : node.feature)),
    threshold: Float32Array.from(nodes, (node) => (node.leaf ? 0 : node.threshold)),
    missingLeft: Uint8Array.from(nodes, (node) => (!node.leaf && node.missingLeft ? 1 : 0)),
    left: Int32Array.from(nodes, (node) => (node.leaf ? -1 : index.get(node.left!)!)),
    right: Int32Array.from(nodes, (node) => (node.leaf ? -1 : index.get(node.right!)!)),
    value: Float32Array.from(nodes, (node) => (node.leaf ? node.value : 0)),
  };
}

export class GbdtModel implements TrainedModel {
  constructor(
    readonly task: Task,
    readonly features: readonly FeatureSpec[],
    readonly trees: readonly FlatTree[],
    private readonly importance: readonly FeatureImportance[],
  ) {}

  /** Raw scores (log-odds for binary), summed in float32 tree by tree as ONNX Runtime does. */
  rawScores(columns: readonly Float32Array[]): Float32Array {
    const rows = columns[0]?.length ?? 0;
    const out = new Float32Array(rows);
    for (let r = 0; r < rows; r += 1) {
      let score = 0;
      for (const tree of this.trees) {
        let i = 0;
        while (tree.feature[i]! >= 0) {
          const x = columns[tree.feature[i]!]![r]!;
          const goLeft = Number.isNaN(x) ? tree.missingLeft[i] === 1 : x <= tree.threshold[i]!;
          i = goLeft ? tree.left[i]! : tree.right[i]!;
        }
        score = Math.fround(score + tree.value[i]!);
      }
      out[r] = score;
    }
    return out;
  }

  predict(columns: readonly Float32Array[]): Float64Array {
    const raw = this.rawScores(columns);
    const out = new Float64Array(raw.length);
    for (let r = 0; r < raw.length; r += 1) out[r] = this.task === 'binary' ? logistic32(raw[r]!) : raw[r]!;
    return out;
  }

  featureImportance(): FeatureImportance[] {
    return this.importance.map((entry) => ({ ...entry }));
  }

  get nodeCount(): number {
    return this.trees.reduce((sum, tree) => sum + tree.feature.length, 0);
  }

  /**
   * `TreeEnsembleClassifier` (binary: labels 0/1, one score column, LOGISTIC: outputs `label`
   * int64 [batch] and `probabilities` float [batch, 2]) or `TreeEnsembleRegressor` (output
   * `prediction` float [batch, 1]). No ZipMap: plain tensors only.
   */
  toOnnx(info: ExportInfo): Uint8Array {
    const treeIds: number[] = [];
    const nodeIds: number[] = [];
    const featureIds: number[] = [];
    const modes: string[] = [];
    const values: number[] = [];
    const trueIds: number[] = [];
    const falseIds: number[] = [];
    const missingTrue: number[] = [];
    const leafTree: number[] = [];
    const leafNode: number[] = [];
    const leafWeight: number[] = [];
    this.trees.forEach((tree, t) => {
      for (let i = 0; i < tree.feature.length; i += 1) {
        const leaf = tree.feature[i]! < 0;
        treeIds.push(t);
        nodeIds.push(i);
        featureIds.push(leaf ? 0 : tree.feature[i]!);
        modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
        values.push(leaf ? 0 : tree.threshold[i]!);
        trueIds.push(leaf ? 0 : tree.left[i]!);
        falseIds.push(leaf ? 0 : tree.right[i]!);
        missingTrue.push(leaf ? 0 : tree.missingLeft[i]!);
        if (leaf) {
          leafTree.push(t);
          leafNode.push(i);
          leafWeight.push(tree.value[i]!);
        }
      }
    });
    const common = [
      attribute('nodes_treeids', ints(treeIds)),
      attribute('nodes_nodeids', ints(nodeIds)),
      attribute('nodes_featureids', ints(featureIds)),
      attribute('nodes_modes', modes),
      attribute('nodes_values', floats(values)),
      attribute('nodes_truenodeids', ints(trueIds)),
      attribute('nodes_falsenodeids', ints(falseIds)),
      attribute('nodes_missing_value_tracks_true', ints(missingTrue)),
    ];
    const front = featureInputs(this.features);
    let estimator: onnx.INodeProto;
    let outputs: onnx.IValueInfoProto[];
    if (this.task === 'binary') {
      estimator = node(
        'TreeEnsembleClassifier',
        [featureMatrixName],
        ['label', 'probabilities'],
        [
          ...common,
          attribute('class_treeids', ints(leafTree)),
          attribute('class_nodeids', ints(leafNode)),
          attribute('class_ids', ints(leafTree.map(() => 0))),
          attribute('class_weights', floats(leafWeight)),
          attribute('classlabels_int64s', ints([0, 1])),
          attribute('post_transform', 'LOGISTIC'),
        ],
        'ai.onnx.ml',
      );
      outputs = [tensorValue('label', INT64, ['batch']), tensorValue('probabilities', FLOAT, ['batch', 2])];
    } else {
      estimator = node(
        'TreeEnsembleRegressor',
        [featureMatrixName],
        ['prediction'],
        [
          ...common,
          attribute('target_treeids', ints(leafTree)),
          attribute('target_nodeids', ints(leafNode)),
          attribute('target_ids', ints(leafTree.map(() => 0))),
          attribute('target_weights', floats(leafWeight)),
          attribute('n_targets', 1),
          attribute('aggregate_function', 'SUM'),
          attribute('post_transform', 'NONE'),
        ],
        'ai.onnx.ml',
      );
      outputs = [tensorValue('prediction', FLOAT, ['batch', 1])];
    }
    return encodeModel(
      { node: [...front.nodes, estimator], input: front.inputs, output: outputs },
      {
        graphName: 'loopline_gbdt',
        producerVersion: info.trainerVersion,
        docString: `Histogram gradient-boosted trees (${this.trees.length} trees, ${this.task}) trained by ${info.trainerName}.`,
        metadata: [['loopline.trainer', info.trainerName], ['loopline.task', this.task], ['loopline.features', JSON.stringify(this.features.map((feature) => feature.name))], ...(info.metadata ?? [])],
      },
    );
  }
}
