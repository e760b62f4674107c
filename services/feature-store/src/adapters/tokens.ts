// Injection tokens of the feature store's ports.
export const MATERIALIZATION_LOG = Symbol('feature-store:materialization-log');
export const FEATURE_STORE_SETTINGS = Symbol('feature-store:settings');
/** The online server's handle (`OnlineServer`), or null when it is disabled or there is no Postgres. */
export const ONLINE_SERVER = Symbol('feature-store:online-server');
/** The main thread's listener for online-store writes of every replica (`OnlineInvalidations`), or null without Postgres. */
export const ONLINE_INVALIDATIONS = Symbol('feature-store:online-invalidations');
