// `npm run bench:monitoring`: the prediction-log ingest benchmark (Kafka → ClickHouse through the
// monitoring service's sink) and the drift benchmark (computeDataDrift beside Evidently). Printed,
// never gating CI.
import { runDriftBench } from './drift';
import { runIngestBench } from './ingest';

async function main(): Promise<void> {
  console.log('== monitoring ingest (Kafka → ClickHouse) ==');
  await runIngestBench();
  console.log('\n== drift (computeDataDrift vs Evidently) ==');
  await runDriftBench();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
