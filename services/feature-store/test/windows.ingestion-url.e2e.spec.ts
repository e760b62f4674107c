// Windowed features across dataset versions (windows.flows.ts) in the access mode of a ClickHouse
// server, forced on chDB: ClickHouse fetches each dataset version from the ingestion stand-in with
// `url()`; earlier versions' rows come from the view's source table, never fetched again.
import { describeWindows } from './windows.flows';

describeWindows('ingestion-url');
