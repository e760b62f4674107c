import { StepKind } from '@loopline/contracts';

/** The step kinds of pipelines, as pipeline definitions and the step-kind catalog name them. */
export type TaskKindName = 'ingest' | 'validate' | 'materialize' | 'build_training_set' | 'train' | 'tune' | 'evaluate' | 'register' | 'promote' | 'deploy' | 'command';

const stepKinds: Readonly<Record<TaskKindName, StepKind>> = {
  ingest: StepKind.INGEST_DATASET,
  validate: StepKind.VALIDATE_DATASET,
  materialize: StepKind.MATERIALIZE_FEATURES,
  build_training_set: StepKind.BUILD_TRAINING_SET,
  train: StepKind.TRAIN_MODEL,
  tune: StepKind.TUNE_HYPERPARAMETERS,
  evaluate: StepKind.EVALUATE_MODEL,
  register: StepKind.REGISTER_MODEL,
  promote: StepKind.PROMOTE_MODEL,
  deploy: StepKind.DEPLOY_MODEL,
  command: StepKind.RUN_COMMAND,
};

export function stepKindOfTask(kind: TaskKindName): StepKind {
  return stepKinds[kind];
}

/** The name of a contract step kind; undefined for UNSPECIFIED or a value this build does not know. */
export function taskKindOf(kind: StepKind): TaskKindName | undefined {
  return (Object.keys(stepKinds) as TaskKindName[]).find((name) => stepKinds[name] === kind);
}
