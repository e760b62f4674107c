/** Injection tokens of the ingestion module's ports. */
export const ARTIFACT_STORE = Symbol('ingestion:artifact-store');
export const UPLOAD_AREA = Symbol('ingestion:upload-area');
export const INGESTION_SETTINGS = Symbol('ingestion:settings');
export const SOURCE_STREAMS = Symbol('ingestion:source-streams');
