// The feature store's flows (feature-store.flows.ts) in the access mode of a ClickHouse server
// (LOOPLINE_CLICKHOUSE_URL), forced on chDB: ClickHouse fetches dataset versions from the
// ingestion stand-in over HTTP with `url()` and verifies their SHA-256 itself, and training sets
// stream back through the client as `FORMAT Parquet`. No file of a dataset reaches the service's disk.
import { describeFeatureStore } from './feature-store.flows';

describeFeatureStore('ingestion-url');
