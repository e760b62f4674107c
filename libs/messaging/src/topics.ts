import type { Admin } from 'kafkajs';
import { defaultDeadLetterTopic } from './dead-letter';
import { MessagingError } from './messaging-error';

export interface TopicSpec {
  readonly topic: string;
  /** The ordering and parallelism unit: records with one key stay in one partition, in order. */
  readonly numPartitions: number;
  /** 3 in production with `min.insync.replicas=2` (REFERENCE 6.1); 1 on a single local broker. */
  readonly replicationFactor: number;
  /** Topic-level broker configs, e.g. `{ 'cleanup.policy': 'compact', 'retention.ms': '604800000' }`. */
  readonly configs?: Readonly<Record<string, string>>;
  /** Also provision `<topic>.dlq`, with the same partitions, replication and configs. */
  readonly withDeadLetterTopic?: boolean;
}

export interface PartitionMismatch {
  readonly topic: string;
  readonly wanted: number;
  readonly actual: number;
}

export interface EnsureTopicsResult {
  /** Topics this call created. */
  readonly created: string[];
  /** Topics that were there already, left untouched. */
  readonly existing: string[];
  /**
   * Existing topics whose partition count differs from the spec. Never fixed automatically: adding
   * partitions moves keys to other partitions and breaks per-key ordering across the change.
   */
  readonly partitionMismatches: PartitionMismatch[];
}

/** What `ensureTopics` needs of a kafkajs admin client. */
export type TopicAdmin = Pick<Admin, 'listTopics' | 'createTopics' | 'fetchTopicMetadata'>;

/**
 * Creates the topics that do not exist yet (brokers run with `auto.create.topics.enable=false`, so
 * this is the only way topics come to be). Idempotent: existing topics are left as they are, and
 * a second call creates nothing. Safe to run from several services at once.
 */
export async function ensureTopics(admin: TopicAdmin, specs: readonly TopicSpec[]): Promise<EnsureTopicsResult> {
  const wanted = withDeadLetterTopics(specs);
  const present = new Set(await admin.listTopics());
  const missing = wanted.filter((spec) => !present.has(spec.topic));
  const existing = wanted.filter((spec) => present.has(spec.topic));

  let created: string[] = [];
  if (missing.length > 0) {
    const createdAny = await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((spec) => ({
        topic: spec.topic,
        numPartitions: spec.numPartitions,
        replicationFactor: spec.replicationFactor,
        configEntries: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
    // `false`: another process created them all between our listing and our request.
    created = createdAny ? missing.map((spec) => spec.topic) : [];
  }

  const partitionMismatches: PartitionMismatch[] = [];
  if (existing.length > 0) {
    const metadata = await admin.fetchTopicMetadata({ topics: existing.map((spec) => spec.topic) });
    for (const spec of existing) {
      const actual = metadata.topics.find((topic) => topic.name === spec.topic)?.partitions.length ?? 0;
      if (actual !== spec.numPartitions) partitionMismatches.push({ topic: spec.topic, wanted: spec.numPartitions, actual });
    }
  }
  return { created, existing: existing.map((spec) => spec.topic), partitionMismatches };
}

/** The specs plus the dead-letter topics they ask for, each topic once. */
export function withDeadLetterTopics(specs: readonly TopicSpec[]): TopicSpec[] {
  const byTopic = new Map<string, TopicSpec>();
  const add = (spec: TopicSpec): void => {
    const earlier = byTopic.get(spec.topic);
    if (earlier && (earlier.numPartitions !== spec.numPartitions || earlier.replicationFactor !== spec.replicationFactor)) {
      throw new MessagingError('INVALID_OPTIONS', `topic ${spec.topic} is specified twice with different partitions or replication`);
    }
    byTopic.set(spec.topic, earlier ?? spec);
  };
  for (const spec of specs) {
    const { withDeadLetterTopic: _, ...topic } = spec;
    add(topic);
    if (spec.withDeadLetterTopic) add({ ...topic, topic: defaultDeadLetterTopic(spec.topic) });
  }
  return [...byTopic.values()];
}
