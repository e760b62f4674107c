// `node -r @swc-node/register make-parquet.ts <file> <select sql> <work dir>`: writes the rows of a
// SELECT as Parquet with chDB (in its own process: chDB holds one data folder per process).
import { writeFileSync } from 'node:fs';
import { createClickHouseClient } from '@loopline/infra';

async function main(): Promise<void> {
  const [file, select, workDir] = process.argv.slice(2);
  if (!file || !select || !workDir) throw new Error('usage: make-parquet.ts <file> <select sql> <work dir>');
  const client = createClickHouseClient({ path: workDir });
  try {
    const result = await client.exec({ query: `${select} FORMAT Parquet` });
    const chunks: Buffer[] = [];
    for await (const chunk of result.stream) chunks.push(chunk as Buffer);
    writeFileSync(file, Buffer.concat(chunks));
  } finally {
    await client.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
