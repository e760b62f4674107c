import { Worker } from 'node:worker_threads';

/** One request of an open-loop load run, as the client saw it. */
export interface LoadResult {
  /** performance.timeOrigin-based epoch ms when the request was sent and when its answer arrived. */
  readonly sentAt: number;
  readonly receivedAt: number;
  readonly status: number;
  readonly body: string;
}

export interface LoadRun {
  /** Requests answered so far (any status). */
  completed(): number;
  /** Stops sending, waits for the answers still due, and returns every result. */
  stop(): Promise<LoadResult[]>;
}

// Plain JavaScript run in a worker thread: the load must not share the event loop of the
// serving instance under test (both run in the test process).
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { url, body, ratePerSecond, tickMs, progress } = workerData;
const completed = new Int32Array(progress);
const now = () => performance.timeOrigin + performance.now();
const results = [];
const inflight = new Set();
const send = () => {
  const sentAt = now();
  const request = fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    .then(async (response) => results.push({ sentAt, receivedAt: now(), status: response.status, body: await response.text() }))
    .catch((error) => results.push({ sentAt, receivedAt: now(), status: 0, body: String(error) + (error && error.cause ? ': ' + String(error.cause) : '') }))
    .finally(() => { inflight.delete(request); Atomics.add(completed, 0, 1); });
  inflight.add(request);
};
// Open loop at a fixed rate: each tick catches up with the schedule, so a late timer (a busy CPU)
// does not lower the rate.
const startedAt = now();
let sent = 0;
const ticker = setInterval(() => {
  const due = Math.floor(((now() - startedAt) * ratePerSecond) / 1000);
  while (sent < due) { sent++; send(); }
}, tickMs);
parentPort.on('message', async () => {
  clearInterval(ticker);
  await Promise.all([...inflight]);
  parentPort.postMessage(results);
});
`;

/** Sends `ratePerSecond` POSTs of `body` to `url`, open loop, from a worker thread. */
export function startLoad(url: string, body: unknown, ratePerSecond: number): LoadRun {
  const progress = new SharedArrayBuffer(4);
  const completed = new Int32Array(progress);
  const worker = new Worker(workerSource, { eval: true, workerData: { url, body: JSON.stringify(body), ratePerSecond, tickMs: 5, progress } });
  return {
    completed: () => Atomics.load(completed, 0),
    stop: () =>
      new Promise<LoadResult[]>((resolve, reject) => {
        worker.once('message', (results: LoadResult[]) => {
          void worker.terminate();
          resolve(results);
        });
        worker.once('error', reject);
        worker.postMessage('stop');
      }),
  };
}
