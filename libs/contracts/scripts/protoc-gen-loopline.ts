// Entry point buf runs as a local plugin (see proto/buf.gen.yaml). The logic lives in
// src/codegen/loopline-plugin.ts, where it is type-checked and tested with the library.
import { runLooplinePlugin } from '../src/codegen/loopline-plugin';

const chunks: Buffer[] = [];
process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
process.stdin.on('end', () => {
  process.stdout.write(runLooplinePlugin(Buffer.concat(chunks)));
});
