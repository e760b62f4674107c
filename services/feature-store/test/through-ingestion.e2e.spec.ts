// The cross-service flow (through-ingestion.flows.ts) with the version downloaded by the feature
// store (SHA-256 checked) and read by the embedded chDB as a local file.
import { describeThroughIngestion } from './through-ingestion.flows';

describeThroughIngestion('local-files');
