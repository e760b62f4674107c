// Windowed features across dataset versions (windows.flows.ts) with dataset versions downloaded by
// the service and read by the embedded chDB as local files.
import { describeWindows } from './windows.flows';

describeWindows('local-files');
