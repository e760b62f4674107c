import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { onlineFeaturesBody, parseBody, parseOnlineFeaturesBody } from './request-schemas';

/** What the schema alone makes of a body: the parsed value, or the error's message. */
function bySchema(body: unknown): unknown {
  try {
    return parseBody(onlineFeaturesBody, body);
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function byFastPath(body: unknown): unknown {
  try {
    return parseOnlineFeaturesBody(body);
  } catch (error) {
    return { error: (error as Error).message };
  }
}

const long = (length: number) => 'x'.repeat(length);

describe('the online lookup body', () => {
  const bodies: unknown[] = [
    { featureService: 'flight_delay', entities: { origin: ['ATL'], destination: ['ORD'] } },
    { features: ['route:f1', 'route:f2'], entities: { route_id: [1, 2.5, true] } },
    { entities: {} },
    { featureService: 'a', features: [], entities: { k: [] } },
    { featureService: long(200), features: [long(300)], entities: { k: Array.from({ length: 1_000 }, (_, index) => index) } },
    // Each of these breaks one rule; the schema's error names it.
    null,
    [],
    'text',
    {},
    { entities: [] },
    { entities: null },
    { entities: { k: 'ATL' } },
    { entities: { k: [null] } },
    { entities: { k: [{}] } },
    { entities: { k: Array.from({ length: 1_001 }, () => 'a') } },
    { featureService: '', entities: {} },
    { featureService: long(201), entities: {} },
    { featureService: 7, entities: {} },
    { features: 'route:f1', entities: {} },
    { features: [''], entities: {} },
    { features: [long(301)], entities: {} },
    { features: [1], entities: {} },
    { features: Array.from({ length: 5_001 }, () => 'v:f'), entities: {} },
    { entities: {}, extra: 1 },
  ];

  it('accepts and refuses exactly what its schema does, with the same error naming the field', () => {
    for (const body of bodies) assert.deepEqual(byFastPath(body), bySchema(body), JSON.stringify(body)?.slice(0, 120));
  });

  it('names the field of a refused body', () => {
    assert.deepEqual(byFastPath({ entities: { k: [null] } }), bySchema({ entities: { k: [null] } }));
    assert.match(String((byFastPath({ entities: {}, extra: 1 }) as { error: string }).error), /unknown field\(s\) extra/);
    assert.match(String((byFastPath({ features: [''], entities: {} }) as { error: string }).error), /^features\.0:/);
  });
});
