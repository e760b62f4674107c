// Building a leaf's gradient/hessian histogram: the hot loop of GBDT training, run on up to two
// threads. A large row range is always cut in the same two halves, the first half accumulated
// into the leaf's histogram and the second into a second buffer that is then added in — whether a
// worker thread builds the second half or the calling thread does it itself afterwards. The
// floating-point sums are therefore the same, bit for bit, for any thread count, so a model stays
// reproducible across machines with different core counts.
//
// The rows, bins and gradients live in SharedArrayBuffers the worker reads in place; the two
// threads meet through `Atomics.wait`/`notify` on a small control array (a job costs
// microseconds, against the milliseconds of a large histogram). The kernel is one JavaScript
// source used by both threads, so the worker needs no TypeScript loader.

import { Worker } from 'node:worker_threads';

/** Row ranges shorter than this are built on the calling thread alone, in one pass. */
export const parallelMinRows = 32_768;

/** The data a histogram is built from, shared with the worker thread. */
export interface HistogramInputs {
  /** Bin of row r, feature f at `r * featureCount + f`. */
  readonly bins: Uint8Array;
  /** Gradient and hessian of row r at `2r` and `2r + 1`. */
  readonly gradHess: Float32Array;
  /** Rows of the tree's leaves, each leaf a contiguous range. */
  readonly indices: Uint32Array;
  /** First histogram slot of each feature. */
  readonly offsets: Int32Array;
  readonly featureCount: number;
  /** Length of a histogram: 2 numbers per bin of every feature. */
  readonly histogramLength: number;
}

export interface HistogramBuilder {
  /** Accumulates rows `indices[begin..end)` into `hist` (which the caller has zeroed). */
  build(hist: Float64Array, begin: number, end: number): void;
  /** Stops the worker thread, if any. */
  close(): void;
}

type Kernel = (hist: Float64Array, indices: Uint32Array, begin: number, end: number, gradHess: Float32Array, bins: Uint8Array, featureCount: number, offsets: Int32Array) => void;

const kernelSource = `function buildHistogram(hist, indices, begin, end, gradHess, bins, featureCount, offsets) {
  for (let k = begin; k < end; k += 1) {
    const r = indices[k];
    const g = gradHess[2 * r];
    const h = gradHess[2 * r + 1];
    const base = r * featureCount;
    for (let f = 0; f < featureCount; f += 1) {
      const b = (offsets[f] + bins[base + f]) * 2;
      hist[b] += g;
      hist[b + 1] += h;
    }
  }
}`;

// The one kernel source both threads run (see the header).
const kernel = new Function(`${kernelSource}\nreturn buildHistogram;`)() as Kernel;

// Control slots: the state, then the job's range.
const STATE = 0;
const BEGIN = 1;
const END = 2;
const IDLE = 0;
const POSTED = 1;
const DONE = 2;
const EXIT = 3;

const workerSource = `
const { workerData } = require('node:worker_threads');
${kernelSource}
const { control, bins, gradHess, indices, offsets, featureCount, second } = workerData;
for (;;) {
  let state;
  while ((state = Atomics.load(control, ${STATE})) !== ${POSTED} && state !== ${EXIT}) Atomics.wait(control, ${STATE}, state);
  if (state === ${EXIT}) break;
  second.fill(0);
  buildHistogram(second, indices, Atomics.load(control, ${BEGIN}), Atomics.load(control, ${END}), gradHess, bins, featureCount, offsets);
  Atomics.store(control, ${STATE}, ${DONE});
  Atomics.notify(control, ${STATE});
}
`;

/** Memory for an input array: shared when a worker thread will read it. */
export function histogramMemory(bytes: number, threads: number): ArrayBufferLike {
  return threads > 1 ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}

/** A worker that has not answered in this long is dead (its error event cannot reach a blocked thread). */
const workerAnswerMs = 120_000;

/**
 * A builder on `threads` threads (1 or 2; more are not used). With 2, `inputs` must be backed
 * by shared memory (see `histogramMemory`), and `close` must be called when training ends.
 */
export function createHistogramBuilder(inputs: HistogramInputs, threads: number): HistogramBuilder {
  const second = new Float64Array(histogramMemory(inputs.histogramLength * 8, threads));
  const run = (hist: Float64Array, begin: number, end: number) => kernel(hist, inputs.indices, begin, end, inputs.gradHess, inputs.bins, inputs.featureCount, inputs.offsets);
  const addSecond = (hist: Float64Array) => {
    for (let i = 0; i < hist.length; i += 1) hist[i] += second[i]!;
  };

  if (threads <= 1) {
    return {
      build(hist, begin, end) {
        if (end - begin < parallelMinRows) return run(hist, begin, end);
        const mid = begin + ((end - begin) >> 1);
        run(hist, begin, mid);
        second.fill(0);
        run(second, mid, end);
        addSecond(hist);
      },
      close() {},
    };
  }

  const control = new Int32Array(new SharedArrayBuffer(3 * 4));
  const worker = new Worker(workerSource, {
    eval: true,
    workerData: { control, bins: inputs.bins, gradHess: inputs.gradHess, indices: inputs.indices, offsets: inputs.offsets, featureCount: inputs.featureCount, second },
  });
  worker.unref();
  return {
    build(hist, begin, end) {
      if (end - begin < parallelMinRows) return run(hist, begin, end);
      const mid = begin + ((end - begin) >> 1);
      Atomics.store(control, BEGIN, mid);
      Atomics.store(control, END, end);
      Atomics.store(control, STATE, POSTED);
      Atomics.notify(control, STATE);
      run(hist, begin, mid);
      if (Atomics.wait(control, STATE, POSTED, workerAnswerMs) === 'timed-out') throw new Error(`the histogram worker thread did not answer in ${workerAnswerMs / 1000} s`);
      Atomics.store(control, STATE, IDLE);
      addSecond(hist);
    },
    close() {
      Atomics.store(control, STATE, EXIT);
      Atomics.notify(control, STATE);
      void worker.terminate();
    },
  };
}
