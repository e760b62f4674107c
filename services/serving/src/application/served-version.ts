import type { ModelSignature } from '../domain/tensor/tensor';
import { BatchScheduler } from './batch-scheduler';
import type { LoadedModel } from './ports';

/**
 * A model version loaded and serving. Requests hold a reference while they use it; once the
 * version is retired (no alias points at it any more) it is released when the last reference goes,
 * so requests in flight during a swap finish on the version they started with.
 */
export class ServedVersion {
  private references = 0;
  private retired = false;
  private released: Promise<void> | undefined;

  constructor(
    readonly modelName: string,
    readonly version: number,
    readonly model: LoadedModel,
    readonly scheduler: BatchScheduler,
    private readonly onReleased: (served: ServedVersion) => void,
  ) {}

  get signature(): ModelSignature {
    return this.model.signature;
  }

  get isRetired(): boolean {
    return this.retired;
  }

  /** References held by requests right now. */
  get inUse(): number {
    return this.references;
  }

  acquire(): void {
    this.references++;
  }

  releaseReference(): void {
    this.references--;
    if (this.retired && this.references === 0) void this.free();
  }

  /** No new request will get this version; it is freed once the requests using it finish. */
  retire(): Promise<void> {
    this.retired = true;
    if (this.references === 0) return this.free();
    return Promise.resolve();
  }

  private free(): Promise<void> {
    this.released ??= this.model.release().finally(() => this.onReleased(this));
    return this.released;
  }
}
