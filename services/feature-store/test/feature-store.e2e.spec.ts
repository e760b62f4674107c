// The feature store's flows (feature-store.flows.ts) with dataset versions downloaded by the
// service and read by the embedded chDB as local files: the default of a local `loopline up`.
import { describeFeatureStore } from './feature-store.flows';

describeFeatureStore('local-files');
