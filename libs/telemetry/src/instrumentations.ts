import { getNodeAutoInstrumentations, type InstrumentationConfigMap } from '@opentelemetry/auto-instrumentations-node';
import { untracedHotRequest, type HotPaths } from './hot-paths';

type InstrumentationName = keyof InstrumentationConfigMap;
type Instrumentation = ReturnType<typeof getNodeAutoInstrumentations>[number];

/**
 * Which auto-instrumentations a Loopline service runs. The record is exhaustive on purpose: when
 * an upgrade of `@opentelemetry/auto-instrumentations-node` brings a new instrumentation, the type
 * checker asks us to decide about it instead of it switching itself on silently.
 *
 * On: the hops a trace must follow (HTTP in and out, gRPC, Postgres) and Nest's handler
 * spans. There is no Fastify instrumentation in this release (it moved to `@fastify/otel`); the
 * HTTP server span plus Nest's controller span name the route instead.
 * Off: fs, dns and net (one span per syscall, pure noise), pino (our logger adds the trace ids
 * itself), kafkajs (libs/messaging traces Kafka hops itself), and libraries we do not use.
 */
const enabled: Readonly<Record<InstrumentationName, boolean>> = {
  '@opentelemetry/instrumentation-http': true,
  '@opentelemetry/instrumentation-undici': true,
  '@opentelemetry/instrumentation-grpc': true,
  '@opentelemetry/instrumentation-pg': true,
  // Off: @loopline/messaging makes the producer/consumer spans and carries `traceparent` itself;
  // this instrumentation would overwrite that header and duplicate the spans.
  '@opentelemetry/instrumentation-kafkajs': false,
  '@opentelemetry/instrumentation-nestjs-core': true,
  '@opentelemetry/instrumentation-fs': false,
  '@opentelemetry/instrumentation-dns': false,
  '@opentelemetry/instrumentation-net': false,
  '@opentelemetry/instrumentation-pino': false,
  '@opentelemetry/instrumentation-runtime-node': false,
  '@opentelemetry/instrumentation-host-metrics': false,
  '@opentelemetry/instrumentation-generic-pool': false,
  '@opentelemetry/instrumentation-lru-memoizer': false,
  '@opentelemetry/instrumentation-amqplib': false,
  '@opentelemetry/instrumentation-aws-lambda': false,
  '@opentelemetry/instrumentation-aws-sdk': false,
  '@opentelemetry/instrumentation-bunyan': false,
  '@opentelemetry/instrumentation-cassandra-driver': false,
  '@opentelemetry/instrumentation-connect': false,
  '@opentelemetry/instrumentation-cucumber': false,
  '@opentelemetry/instrumentation-dataloader': false,
  '@opentelemetry/instrumentation-express': false,
  '@opentelemetry/instrumentation-graphql': false,
  '@opentelemetry/instrumentation-hapi': false,
  '@opentelemetry/instrumentation-ioredis': false,
  '@opentelemetry/instrumentation-knex': false,
  '@opentelemetry/instrumentation-koa': false,
  '@opentelemetry/instrumentation-memcached': false,
  '@opentelemetry/instrumentation-mongodb': false,
  '@opentelemetry/instrumentation-mongoose': false,
  '@opentelemetry/instrumentation-mysql': false,
  '@opentelemetry/instrumentation-mysql2': false,
  '@opentelemetry/instrumentation-openai': false,
  '@opentelemetry/instrumentation-oracledb': false,
  '@opentelemetry/instrumentation-redis': false,
  '@opentelemetry/instrumentation-restify': false,
  '@opentelemetry/instrumentation-router': false,
  '@opentelemetry/instrumentation-socket.io': false,
  '@opentelemetry/instrumentation-tedious': false,
  '@opentelemetry/instrumentation-winston': false,
};

/** Probes and scrapes arrive every few seconds; a span for each would bury the real traffic. */
const quietHttpPaths = /^\/(health\/(live|ready)|metrics)(\?|$)/;

export function looplineInstrumentations(hotPaths: HotPaths = {}): Instrumentation[] {
  const hotHttpPaths = new Set(hotPaths.httpPaths ?? []);
  const config: InstrumentationConfigMap = {};
  for (const [name, on] of Object.entries(enabled) as [InstrumentationName, boolean][]) {
    config[name] = { enabled: on };
  }
  config['@opentelemetry/instrumentation-http'] = {
    enabled: true,
    ignoreIncomingRequestHook: (request) => quietHttpPaths.test(request.url ?? '') || untracedHotRequest(hotHttpPaths, request.url, request.headers),
  };
  config['@opentelemetry/instrumentation-grpc'] = {
    enabled: true,
    ignoreGrpcMethods: ['Check', 'Watch'],
  };
  // Readiness probes run `SELECT 1` on a timer, outside any request: only trace queries that
  // belong to a traced operation.
  config['@opentelemetry/instrumentation-pg'] = { enabled: true, requireParentSpan: true };
  return getNodeAutoInstrumentations(config);
}
