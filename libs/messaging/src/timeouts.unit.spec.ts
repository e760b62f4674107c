import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessagingError } from './messaging-error';
import { abortableDelay, runWithTimeout } from './timeouts';

describe('runWithTimeout', () => {
  it('returns what the work returns when it finishes in time', async () => {
    assert.equal(await runWithTimeout(async () => 42, 1_000), 42);
  });

  it('passes on the error of failing work', async () => {
    await assert.rejects(runWithTimeout(async () => Promise.reject(new Error('boom')), 1_000), /boom/);
  });

  it('rejects with HANDLER_TIMEOUT and aborts the signal when the work hangs', async () => {
    let seen: AbortSignal | undefined;
    const hanging = (signal: AbortSignal): Promise<never> => {
      seen = signal;
      return new Promise<never>(() => undefined);
    };
    await assert.rejects(runWithTimeout(hanging, 20), (error: unknown) => error instanceof MessagingError && error.code === 'HANDLER_TIMEOUT');
    assert.equal(seen?.aborted, true);
  });
});

describe('abortableDelay', () => {
  it('resolves true after the full delay', async () => {
    assert.equal(await abortableDelay(5, new AbortController().signal), true);
  });

  it('resolves false as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const waiting = abortableDelay(60_000, controller.signal);
    controller.abort();
    assert.equal(await waiting, false);
    assert.ok(Date.now() - started < 1_000);
  });
});
