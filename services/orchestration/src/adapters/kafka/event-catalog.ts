// Every Loopline event type an event trigger may name, from the topic registry of
// @loopline/contracts: its full CloudEvents type, its topic and the JSON names of its fields
// (what `where:` filters and `${{ event.x }}` references read).
import { toJson, type JsonValue as ProtoJson } from '@bufbuild/protobuf';
import { topics, type DecodedEvent } from '@loopline/contracts';
import type { JsonValue } from '../../domain/expressions/expression';

interface CatalogEntry {
  readonly typeName: string;
  readonly topic: string;
  readonly fields: readonly string[];
}

function buildCatalog(): { readonly byType: ReadonlyMap<string, CatalogEntry>; readonly byShortName: ReadonlyMap<string, CatalogEntry[]> } {
  const byType = new Map<string, CatalogEntry>();
  const byShortName = new Map<string, CatalogEntry[]>();
  for (const topic of topics) {
    for (const schema of topic.events) {
      const entry: CatalogEntry = { typeName: schema.typeName, topic: topic.name, fields: schema.fields.map((field) => field.jsonName) };
      byType.set(schema.typeName, entry);
      const short = schema.typeName.split('.').at(-1)!;
      byShortName.set(short, [...(byShortName.get(short) ?? []), entry]);
    }
  }
  return { byType, byShortName };
}

const catalog = buildCatalog();

export const eventCatalog = {
  eventType(name: string): CatalogEntry | { readonly candidates: readonly string[] } | undefined {
    const exact = catalog.byType.get(name);
    if (exact) return exact;
    const short = catalog.byShortName.get(name);
    if (short === undefined) return undefined;
    return short.length === 1 ? short[0] : { candidates: short.map((entry) => entry.typeName) };
  },
};

/** The event's payload in its proto3 JSON form (camelCase names, 64-bit integers as text). */
export function eventPayloadJson(event: DecodedEvent): JsonValue {
  return toJson(event.schema, event.message as never) as ProtoJson as JsonValue;
}
