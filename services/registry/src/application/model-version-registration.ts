// Registering a version: the uploaded file is already on disk (streamed, hashed, size-bounded);
// here it is validated in isolation, moved into the content-addressed store with its reference
// profile, and only then recorded. A crash after the move leaves an unreferenced blob, never a
// version without its artifact.
import { Readable } from 'node:stream';
import type { ModelLineage } from '../domain/registered-model/registered-model';
import { assertModelName } from '../domain/registered-model/rules';
import type { ArtifactStore, ModelValidator, ReceivedFile, RequestContext, UploadArea } from './ports';
import { parseReferenceProfile } from './reference-profile';
import { versionView, type ModelVersionView, type RegistryApplication } from './registry-application';

/** Everything about a version except its file, as both transports deliver it. */
export interface VersionMetadata {
  readonly description: string;
  readonly metrics: Readonly<Record<string, number>>;
  readonly params: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly lineage: ModelLineage;
  /** The parsed JSON of the reference profile, or null; its shape is checked here. */
  readonly referenceProfile: unknown;
}

export interface ModelVersionRegistrationDeps {
  readonly application: RegistryApplication;
  readonly validator: ModelValidator;
  readonly artifacts: ArtifactStore;
  readonly uploads: UploadArea;
  readonly maxProfileBytes: number;
}

export class ModelVersionRegistration {
  constructor(private readonly deps: ModelVersionRegistrationDeps) {}

  /**
   * Registers `file` as the next version of `name`. The received file is consumed: moved into the
   * store, or deleted when the registration is refused.
   */
  async register(name: string, file: ReceivedFile, metadata: VersionMetadata, idempotencyKey: string | null, context: RequestContext): Promise<ModelVersionView> {
    const { application, validator, artifacts, uploads } = this.deps;
    try {
      assertModelName(name);
      // Cheap refusals first: an unknown model (404) or a retried registration costs no validation.
      const model = await application.getModel(name);
      const earlier = idempotencyKey === null ? undefined : model.registrationKeys[idempotencyKey];
      if (earlier !== undefined) return versionView(model, earlier);

      // Checked, then stored as the client sent it (defaults are not written into their document).
      if (metadata.referenceProfile !== null) parseReferenceProfile(metadata.referenceProfile);
      const profile = metadata.referenceProfile;
      const signature = await validator.validate(file);
      const artifact = await artifacts.put(file);
      let referenceProfile = null;
      if (profile !== null) {
        const received = await uploads.receive(Readable.from([Buffer.from(JSON.stringify(profile), 'utf8')]), { maxBytes: this.deps.maxProfileBytes, what: 'referenceProfile' });
        try {
          referenceProfile = await artifacts.put(received);
        } finally {
          await uploads.discard(received);
        }
      }
      return await application.registerVersion(
        name,
        {
          artifact,
          signature,
          metrics: metadata.metrics,
          params: metadata.params,
          tags: metadata.tags,
          description: metadata.description,
          lineage: metadata.lineage,
          referenceProfile,
          idempotencyKey,
        },
        context,
      );
    } finally {
      await uploads.discard(file);
    }
  }
}
