// Hand-built data of the feature-store tests: flights of three airports on one day, the
// definitions over them, and a seeded random generator for the property test.

export const tripsStructure = "date DateTime64(3, 'UTC'), origin String, destination String, delay Int32, distance Float64";
export const labelsStructure = "date DateTime64(3, 'UTC'), origin String, label UInt8";

export const definitionsYaml = `# Test definitions: one entity, two views over trips, one feature service.
entities:
  - name: origin
    join_keys: [origin]
    description: departure airport
feature_views:
  - name: origin_stats
    entities: [origin]
    source: trips
    timestamp_column: date
    ttl: 2h
    features:
      - name: last_delay
        expression: delay
        type: int64
      - name: delayed
        expression: delay > 15
      - name: mean_delay_1h
        aggregate: mean
        expression: delay
        window: 1h
      - name: flights_1h
        aggregate: count
        window: 1h
  - name: origin_profile
    entities: [origin]
    source: trips
    timestamp_column: date
    features:
      - name: last_distance
        expression: distance
      - name: mean_delay_1h
        aggregate: mean
        expression: delay
        window: 1h
feature_services:
  - name: delay_model
    features:
      - origin_stats
      - origin_profile:last_distance
`;

const day = '2024-03-01';
export const at = (time: string) => `${day} ${time}`;

export const trips = [
  { date: at('10:00:00.000'), origin: 'A', destination: 'X', delay: 10, distance: 100 },
  { date: at('10:30:00.000'), origin: 'A', destination: 'X', delay: 20, distance: 110 },
  { date: at('12:00:00.000'), origin: 'A', destination: 'Y', delay: 40, distance: 120 },
  { date: at('09:00:00.000'), origin: 'B', destination: 'X', delay: 5, distance: 300 },
];

/** Seeded PRNG (mulberry32): the property test's data is the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function clickHouseTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
