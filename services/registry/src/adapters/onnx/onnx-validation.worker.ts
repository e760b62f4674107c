// The validation worker: a child process of its own per model, so that a hostile or broken model
// (a decoder bomb, a 2^40-element shape, an allocation storm inside ONNX Runtime) can only take
// this process down. The parent bounds its heap, its resident memory and its run time, and kills
// it when a bound is crossed (onnx-validator.ts).
//
// Protocol: the model file is argv[2], or arrives as `{ path }` over IPC; the worker sends one
// `WorkerReply` over IPC and exits. One model per process, always.
// Imports stay relative or third-party: the worker runs in an empty working directory.
import { readFile } from 'node:fs/promises';
import type { InferenceSession } from 'onnxruntime-node';
import { oipDatatype, oipShape } from './datatypes';
import { inspectOnnx } from './onnx-inspection';

export interface WorkerTensorSpec {
  readonly name: string;
  readonly datatype: string;
  readonly shape: number[];
}

export type WorkerReply =
  | { readonly ok: true; readonly signature: { readonly inputs: WorkerTensorSpec[]; readonly outputs: WorkerTensorSpec[] } }
  | { readonly ok: false; readonly reason: string };

async function validate(path: string): Promise<WorkerReply> {
  const bytes = await readFile(path);
  const inspected = inspectOnnx(bytes);
  if ('reason' in inspected) return { ok: false, reason: inspected.reason };

  // Loaded only after the structural checks passed: the runtime never sees external data.
  const { InferenceSession: Session } = await import('onnxruntime-node');
  let session: InferenceSession;
  try {
    session = await Session.create(bytes, { graphOptimizationLevel: 'basic', intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
  } catch (error) {
    return { ok: false, reason: `ONNX Runtime cannot load the model: ${shortMessage(error)}` };
  }
  try {
    const inputs = specs(session.inputMetadata, 'input');
    if ('reason' in inputs) return { ok: false, reason: inputs.reason };
    const outputs = specs(session.outputMetadata, 'output');
    if ('reason' in outputs) return { ok: false, reason: outputs.reason };
    return { ok: true, signature: { inputs: inputs.specs, outputs: outputs.specs } };
  } finally {
    await session.release();
  }
}

function specs(metadata: readonly InferenceSession.ValueMetadata[], kind: 'input' | 'output'): { specs: WorkerTensorSpec[] } | { reason: string } {
  const result: WorkerTensorSpec[] = [];
  for (const value of metadata) {
    if (!value.isTensor) {
      // e.g. scikit-learn's ZipMap output (a sequence of maps): the Open Inference Protocol only
      // carries tensors, so such a model could be registered but never served.
      return {
        reason: `${kind} "${value.name}" is not a tensor (a sequence or map): the Open Inference Protocol serves tensors only; for scikit-learn classifiers export with zipmap=False`,
      };
    }
    const datatype = oipDatatype(value.type);
    if (datatype === undefined) return { reason: `${kind} "${value.name}" has element type ${value.type}, which has no Open Inference Protocol datatype` };
    result.push({ name: value.name, datatype, shape: oipShape(value.shape) });
  }
  return { specs: result };
}

function shortMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
   
  const clean = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?').trim();
  return clean.length > 600 ? `${clean.slice(0, 600)}…` : clean;
}

function reply(message: WorkerReply): void {
  if (!process.send) {
    process.stdout.write(`${JSON.stringify(message)}\n`);
    process.exit(0);
  }
  process.send(message, () => process.exit(0));
}

function run(path: string): void {
  validate(path).then(reply, (error: unknown) => reply({ ok: false, reason: `the model could not be validated: ${shortMessage(error)}` }));
}

// Started with a file: validate it. Started without one: a warm spare that waits for exactly one
// `{ path }` over IPC (the parent starts spares ahead of time to hide start-up), and goes away
// with its parent.
const path = process.argv[2];
if (path) {
  run(path);
} else if (process.send) {
  process.once('message', (message: { path?: unknown }) => {
    if (typeof message?.path === 'string') run(message.path);
    else reply({ ok: false, reason: 'internal: the validation worker got no file' });
  });
  process.once('disconnect', () => process.exit(0));
} else {
  reply({ ok: false, reason: 'internal: the validation worker got no file' });
}
