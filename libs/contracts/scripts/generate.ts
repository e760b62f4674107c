// `npm run contracts:generate`: regenerates the TypeScript of proto/ (libs/contracts/src/gen) and
// then docs/asyncapi.yaml from it. Run it after changing a .proto file or the topic registry, and
// commit the result; tests fail while either is stale.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { generateCode, generatedCodeDir } from '../src/codegen/buf';

async function main(): Promise<void> {
  generateCode();
  console.log(`generated ${generatedCodeDir}`);
  // Loaded only now, so that the document is built from the code just generated.
  const { asyncApiDocumentPath, renderAsyncApiYaml } = await import('../src/asyncapi/asyncapi-document');
  mkdirSync(path.dirname(asyncApiDocumentPath), { recursive: true });
  writeFileSync(asyncApiDocumentPath, renderAsyncApiYaml());
  console.log(`generated ${path.relative(process.cwd(), asyncApiDocumentPath)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
