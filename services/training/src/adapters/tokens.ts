// Injection tokens of the training service's ports (classes are their own tokens).
export const TRAINING_SETTINGS = Symbol('training:settings');
export const RUN_ARTIFACTS = Symbol('training:run-artifacts');
export const EXTERNAL_TRAINERS = Symbol('training:external-trainers');
