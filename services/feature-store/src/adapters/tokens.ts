// Injection tokens of the feature store's ports.
export const MATERIALIZATION_LOG = Symbol('feature-store:materialization-log');
export const FEATURE_STORE_SETTINGS = Symbol('feature-store:settings');
