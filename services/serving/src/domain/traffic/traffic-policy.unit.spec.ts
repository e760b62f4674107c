import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '@loopline/errors';
import { parseTrafficPolicy, routeRequest } from './traffic-policy';

describe('traffic policy', () => {
  it('sends the canary share to the challenger and the rest to the champion', () => {
    const policy = { canaryPercent: 25, shadow: false };
    assert.equal(routeRequest(policy, true, 0.249).answeredBy, 'challenger');
    assert.equal(routeRequest(policy, true, 0.25).answeredBy, 'champion');
  });

  it('sends everything to the champion when there is no challenger', () => {
    assert.deepEqual(routeRequest({ canaryPercent: 100, shadow: true }, false, 0), { answeredBy: 'champion', shadowedByChallenger: false });
  });

  it('shadows only the requests the champion answers', () => {
    const policy = { canaryPercent: 10, shadow: true };
    assert.deepEqual(routeRequest(policy, true, 0.05), { answeredBy: 'challenger', shadowedByChallenger: false });
    assert.deepEqual(routeRequest(policy, true, 0.5), { answeredBy: 'champion', shadowedByChallenger: true });
  });

  it('refuses out-of-range shares and unknown fields, naming them', () => {
    assert.throws(() => parseTrafficPolicy({ canaryPercent: 101 }), (error: unknown) => error instanceof ValidationError && /canaryPercent must be a number from 0 to 100, received 101/.test(error.message));
    assert.throws(() => parseTrafficPolicy({ canary: 5 }), /unknown traffic policy field\(s\): canary/);
    assert.deepEqual(parseTrafficPolicy({ shadow: true }), { canaryPercent: 0, shadow: true });
  });
});
