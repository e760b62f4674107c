import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  Parser,
  type BindingsInterface,
  type ChannelInterface,
  type MessageInterface,
  type OperationInterface,
} from '@asyncapi/parser';
import { topics } from '../topics';
import { asyncApiDocumentPath, renderAsyncApiYaml } from './asyncapi-document';

const committed = readFileSync(asyncApiDocumentPath, 'utf8');
// Spectral's severities: 0 error, 1 warning, 2 information, 3 hint.
const errorSeverity = 0;

describe('AsyncAPI document', () => {
  describe('docs/asyncapi.yaml as committed', () => {
    it('parses with no error', async () => {
      const { document, diagnostics } = await new Parser().parse(committed);
      const errors = diagnostics.filter((d) => d.severity === errorSeverity);
      assert.deepEqual(
        errors.map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`),
        [],
        'docs/asyncapi.yaml is not a valid AsyncAPI document',
      );
      assert.ok(document, 'the parser returned no document');
      assert.equal(document.version(), '3.0.0');
    });

    it('is what the contracts generate today', () => {
      assert.ok(
        renderAsyncApiYaml() === committed,
        'docs/asyncapi.yaml is stale: run `npm run contracts:generate` and commit the result',
      );
    });
  });

  describe('each topic', () => {
    it('is a channel with its address, partitions, messages, key and operation', async () => {
      const { document } = await new Parser().parse(committed);
      assert.ok(document);
      assert.equal(document.channels().length, topics.length);
      for (const topic of topics) {
        const channel: ChannelInterface | undefined = document.channels().all().find((c) => c.address() === topic.name);
        assert.ok(channel, `no channel for ${topic.name}`);
        assert.equal(kafkaBinding(channel.bindings(), 'partitions'), topic.partitions);
        const messages: MessageInterface[] = channel.messages().all();
        assert.deepEqual(
          messages.map((m) => m.name()),
          topic.events.map((schema) => schema.name),
        );
        for (const message of messages) {
          assert.deepEqual(kafkaBinding(message.bindings(), 'key'), {
            type: 'string',
            description: topic.key.description,
            examples: [topic.key.example],
          });
          assert.ok(message.hasPayload());
        }
        const operations: OperationInterface[] = channel.operations().all();
        assert.equal(operations.length, 1);
        assert.equal(operations[0]?.action(), topic.ownerRole === 'producer' ? 'send' : 'receive');
      }
    });

    it('documents payload fields with the proto comments', async () => {
      const { document } = await new Parser().parse(committed);
      const message = document?.messages().all().find((m) => m.name() === 'ModelVersionAliasSet');
      assert.match(message?.description() ?? '', /An alias of a registered model now points at a model version/);
      const alias = message?.payload()?.properties()?.['alias'];
      assert.equal(alias?.description(), 'The alias, e.g. `champion`.');
    });
  });
});

function kafkaBinding(bindings: BindingsInterface, field: string): unknown {
  const value: Record<string, unknown> = bindings.get('kafka')?.value() ?? {};
  return value[field];
}
