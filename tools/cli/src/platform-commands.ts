// The commands that read and drive the running platform through the services' public REST APIs.
// main.ts dispatches to them by name; each prints its own usage with -h.
import type { PlatformCommand } from './cli-output';
import { runAlertsCommand } from './alerts-command';
import { runLineageCommand } from './lineage-command';
import { runModelsCommand } from './models-command';
import { runPredictCommand } from './predict-command';
import { runRunsCommand } from './runs-command';

export const platformCommands: Readonly<Record<string, PlatformCommand>> = {
  models: runModelsCommand,
  runs: runRunsCommand,
  predict: runPredictCommand,
  alerts: runAlertsCommand,
  lineage: runLineageCommand,
};

export const platformCommandsUsage = `  models    registered models: ls, show, history (time travel), promote through the gate
  runs      training runs (experiment tracking): ls, show, logs
  predict   one prediction, from the model's inputs or by entity (online features)
  alerts    drift and performance alerts: ls, ack, dismiss
  lineage   where a prediction or a model version comes from, down to data and code`;
