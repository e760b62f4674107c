// The cross-service flow (through-ingestion.flows.ts) in a ClickHouse server's access mode, forced
// on chDB: ClickHouse fetches the version from the real ingestion service's download route.
import { describeThroughIngestion } from './through-ingestion.flows';

describeThroughIngestion('ingestion-url');
