// Real: a node:http server, the Kafka broker, kafkajs, the OpenTelemetry SDK (in-memory exporter,
// W3C trace-context propagator). The server span is made by hand, as HTTP instrumentation would.
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { context, propagation, type SpanContext, SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Admin, Kafka } from 'kafkajs';
import { eventually, testInfra, uniqueName } from '@loopline/testing';
import { fastGroup, testKafka, testLogger } from '../test/kafka-test-kit';
import { installTestTracing, type TestTracing } from '../test/test-tracing';
import { createEventProducer, type EventProducer } from './event-producer';
import { subscribe, type Subscription } from './subscription';
import { ensureTopics } from './topics';

describe('trace propagation', () => {
  let tracing: TestTracing;
  let kafka: Kafka;
  let admin: Admin;
  let producer: EventProducer;
  let server: Server;
  let subscription: Subscription | undefined;
  const topic = uniqueName('promotions');

  before(async () => {
    tracing = installTestTracing();
    kafka = testKafka(testInfra().kafkaBrokers, 'tracing-spec');
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 2, replicationFactor: 1, withDeadLetterTopic: true }]);
    producer = createEventProducer(kafka, { logger: testLogger });
    // The service under test: continues the caller's trace, as HTTP instrumentation does, and
    // publishes an event while handling the request.
    server = createServer((incoming, response) => {
      const callerContext = propagation.extract(context.active(), incoming.headers);
      trace.getTracer('http-server').startActiveSpan('POST /models/:name/promote', { kind: SpanKind.SERVER }, callerContext, async (span) => {
        try {
          await producer.publish([{ topic, key: 'churn', value: JSON.stringify({ model: 'churn', alias: 'champion' }) }]);
          response.writeHead(202).end();
        } catch (error) {
          response.writeHead(500).end(String(error));
        } finally {
          span.end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  after(async () => {
    await subscription?.stop();
    await new Promise((resolve) => server.close(resolve));
    await producer.disconnect();
    await admin.disconnect();
    await tracing.shutdown();
  });

  describe('when an HTTP request publishes an event', () => {
    it('continues the trace in the consumer span, whose parent is the producer span', async () => {
      const handlerSpans: SpanContext[] = [];
      subscription = await subscribe(kafka, {
        groupId: uniqueName('tracing-group'),
        topics: [topic],
        fromBeginning: true,
        parse: (record) => JSON.parse(record.value?.toString('utf8') ?? '') as unknown,
        handle: async () => {
          const active = trace.getActiveSpan();
          if (active) handlerSpans.push(active.spanContext());
        },
        handlerTimeoutMs: 2_000,
        group: fastGroup,
        logger: testLogger,
      });

      // An upstream caller (a gateway, a browser) started the trace.
      const callerTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const callerSpanId = '00f067aa0ba902b7';
      const status = await post(server, '/models/churn/promote', { traceparent: `00-${callerTraceId}-${callerSpanId}-01` });
      assert.equal(status, 202);

      const spans = await eventually(() => {
        const finished = tracing.finishedSpans();
        const find = (kind: SpanKind, name: string): ReadableSpan | undefined => finished.find((span) => span.kind === kind && span.name === name);
        const http = find(SpanKind.SERVER, 'POST /models/:name/promote');
        const send = find(SpanKind.PRODUCER, `send ${topic}`);
        const process = find(SpanKind.CONSUMER, `process ${topic}`);
        if (!http || !send || !process) throw new Error(`finished so far: ${finished.map((span) => span.name).join(', ')}`);
        return { http, send, process };
      }, { timeoutMs: 15_000, what: 'server, producer and consumer spans finished' });

      for (const span of [spans.http, spans.send, spans.process]) assert.equal(span.spanContext().traceId, callerTraceId, span.name);
      assert.equal(spans.http.parentSpanContext?.spanId, callerSpanId);
      assert.equal(spans.send.parentSpanContext?.spanId, spans.http.spanContext().spanId, 'the producer span is a child of the request span');
      assert.equal(spans.process.parentSpanContext?.spanId, spans.send.spanContext().spanId, 'the consumer span is a child of the producer span');
      assert.equal(spans.process.parentSpanContext?.isRemote, true);
      assert.equal(spans.process.attributes['messaging.destination.name'], topic);
      assert.deepEqual(
        handlerSpans.map((span) => span.spanId),
        [spans.process.spanContext().spanId],
        'the handler runs inside the consumer span',
      );
    });
  });
});

function post(server: Server, path: string, headers: Record<string, string>): Promise<number> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path, method: 'POST', headers }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}
