// Injection tokens of the registry's ports (classes are their own tokens).
export const ARTIFACT_STORE = Symbol('registry:artifact-store');
export const UPLOAD_AREA = Symbol('registry:upload-area');
export const REGISTRY_SETTINGS = Symbol('registry:settings');
