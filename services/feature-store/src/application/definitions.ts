// Plan and apply definitions files; read what is applied. Apply appends exactly the events its
// plan decided, to every stream at the version the plan saw, in one transaction: a concurrent
// apply makes this one fail whole (ConcurrencyError → 409) rather than interleave.
import { ValidationError } from '@loopline/errors';
import { latest, viewVersion, type AppliedFeatureView, type Catalog } from '../domain/definitions/catalog';
import { definitionDecider, streamIdOf, type ApplyDefinition, type DefinitionEvent, type DefinitionState } from '../domain/definitions/definition-stream';
import { DefinitionFileError, formatProblem, parseDefinitionsFile } from '../domain/definitions/definitions-file';
import { planDefinitions, type Plan } from '../domain/definitions/plan';
import type { Clock, DefinitionStore } from './ports';

export interface RequestContext {
  readonly actor: string;
  readonly correlationId: string;
}

export class DefinitionsApplication {
  private cached: { catalog: Catalog; at: number } | undefined;
  private refreshing: Promise<unknown> | undefined;

  constructor(
    private readonly store: DefinitionStore,
    private readonly clock: Clock,
    /** How long a read catalog may be reused by lookups (apply always rereads). */
    private readonly catalogTtlMs = 1_000,
  ) {}

  /** The catalog, fresh. */
  async catalog(): Promise<Catalog> {
    const catalog = await this.store.catalog();
    this.cached = { catalog, at: this.clock.now().getTime() };
    return catalog;
  }

  /**
   * The catalog, possibly a second old, for the hot read paths (online lookups): once loaded, an
   * old catalog is answered at once while a fresh one loads in the background, so no lookup ever
   * waits for the database on its account.
   */
  async recentCatalog(): Promise<Catalog> {
    if (!this.cached) return this.catalog();
    if (this.clock.now().getTime() - this.cached.at >= this.catalogTtlMs && !this.refreshing) {
      this.refreshing = this.catalog()
        .catch(() => undefined)
        .finally(() => {
          this.refreshing = undefined;
        });
    }
    return this.cached.catalog;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  async plan(text: string, fileName: string): Promise<Plan> {
    const catalog = await this.catalog();
    return planDefinitions(this.parse(text, fileName, catalog), catalog);
  }

  async apply(text: string, fileName: string, context: RequestContext): Promise<Plan> {
    const catalog = await this.catalog();
    const plan = planDefinitions(this.parse(text, fileName, catalog), catalog);
    const time = this.clock.now();
    const streams: { streamId: string; expectedVersion: number; events: readonly DefinitionEvent[] }[] = [];
    for (const change of plan.changes) {
      if (change.action === 'unchanged') continue;
      const state = stateOf(catalog, change.kind, change.name);
      const command = { ...change, hash: change.hash, actor: context.actor, time: time.toISOString() } as ApplyDefinition;
      const events = definitionDecider.decide(command, state);
      if (events.length > 0) streams.push({ streamId: streamIdOf(change.kind, change.name), expectedVersion: state.version, events });
    }
    if (streams.length > 0) await this.store.append(streams, { actor: context.actor, time, correlationId: context.correlationId });
    this.invalidate();
    return plan;
  }

  private parse(text: string, fileName: string, catalog: Catalog) {
    try {
      return parseDefinitionsFile(text, fileName, {
        entity: (name) => latest(catalog.entities.get(name))?.definition,
        view: (name) => latest(catalog.featureViews.get(name))?.definition,
      });
    } catch (error) {
      if (!(error instanceof DefinitionFileError)) throw error;
      throw new ValidationError(error.message, { file: fileName, problems: error.problems.map((problem) => ({ ...problem, text: formatProblem(fileName, problem) })) });
    }
  }

  async featureView(name: string, version?: number): Promise<AppliedFeatureView | undefined> {
    return viewVersion(await this.catalog(), name, version);
  }
}

/** A stream's state, from the catalog (the projection written with its events). */
function stateOf(catalog: Catalog, kind: ApplyDefinition['kind'], name: string): DefinitionState {
  if (kind === 'entity') {
    const applied = latest(catalog.entities.get(name));
    return applied ? { version: applied.version, hash: applied.hash, joinKeys: applied.definition.joinKeys } : definitionDecider.initialState();
  }
  const applied = kind === 'feature_view' ? latest(catalog.featureViews.get(name)) : latest(catalog.featureServices.get(name));
  return applied ? { version: applied.version, hash: applied.hash, joinKeys: null } : definitionDecider.initialState();
}

/** The join keys of a view version, from its entities (as applied now: join keys never change). */
export function joinKeysOf(catalog: Catalog, view: AppliedFeatureView): string[] {
  return view.definition.entities.flatMap((entityName) => {
    const entity = latest(catalog.entities.get(entityName));
    if (!entity) throw new ValidationError(`feature view "${view.name}" uses unknown entity "${entityName}"`, { view: view.name, entity: entityName });
    return entity.definition.joinKeys;
  });
}
