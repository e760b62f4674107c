import { Client } from 'pg';
import { uniqueName } from './unique-name';

/**
 * The real infrastructure of this test run. `npm test` (scripts/test.ts) starts Kafka and
 * PostgreSQL once per run and hands their addresses to every test process through the
 * environment; each test then makes its own database, topics and consumer groups.
 */
export interface TestInfra {
  readonly kafkaBrokers: string[];
  /** Superuser URL of the `postgres` database; create a database per test with `createTestDatabase`. */
  readonly postgresAdminUrl: string;
  /** A folder of this run for files (artifacts, chDB data). */
  readonly dataDir: string;
}

export const testInfraEnv = {
  kafkaBrokers: 'LOOPLINE_TEST_KAFKA_BROKERS',
  postgresAdminUrl: 'LOOPLINE_TEST_POSTGRES_URL',
  dataDir: 'LOOPLINE_TEST_DATA_DIR',
} as const;

export function testInfra(env: Record<string, string | undefined> = process.env): TestInfra {
  const missing = Object.values(testInfraEnv).filter((key) => !env[key]);
  if (missing.length > 0) {
    throw new Error(
      `test infrastructure not started (${missing.join(', ')} unset): run tests through \`npm test [-- <spec files>]\`, which starts Kafka and PostgreSQL`,
    );
  }
  return {
    kafkaBrokers: env[testInfraEnv.kafkaBrokers]!.split(','),
    postgresAdminUrl: env[testInfraEnv.postgresAdminUrl]!,
    dataDir: env[testInfraEnv.dataDir]!,
  };
}

/** Creates a fresh, empty database for one test and returns its connection URL. */
export async function createTestDatabase(prefix: string, infra: TestInfra = testInfra()): Promise<string> {
  const name = uniqueName(prefix);
  const admin = new Client({ connectionString: infra.postgresAdminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(infra.postgresAdminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
