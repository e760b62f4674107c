import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { columnsOf, compileExpression, ExpressionError, inferType, parseExpression } from './expression';

const compile = (source: string) => compileExpression(parseExpression(source));

describe('Expression', () => {
  describe('when valid', () => {
    it('compiles operators, calls and literals to ClickHouse SQL', () => {
      assert.equal(compile('delay > 15'), '(`delay` > 15)');
      assert.equal(compile('if(delay > 15 and not cancelled, 1, 0)'), 'if(((`delay` > 15) AND (NOT `cancelled`)), 1, 0)');
      assert.equal(compile('hour(date) * 60 + minute(date)'), '((toHour(`date`) * 60) + toMinute(`date`))');
      assert.equal(compile("concat(origin, '-', destination)"), "concat(`origin`, '-', `destination`)");
      assert.equal(compile('distance / 1.5'), '(`distance` / toFloat64(1.5))');
      assert.equal(compile('-delay'), '(-`delay`)');
    });

    it('infers evident types', () => {
      assert.equal(inferType(parseExpression('delay > 15')), 'bool');
      assert.equal(inferType(parseExpression('weekday(date)')), 'int64');
      assert.equal(inferType(parseExpression('distance / 2')), 'double');
      assert.equal(inferType(parseExpression('delay')), undefined);
      assert.equal(inferType(parseExpression("lower(origin)")), 'string');
    });

    it('lists the columns it reads', () => {
      assert.deepEqual(columnsOf(parseExpression('if(delay > 15, distance, delay)')), ['delay', 'distance']);
    });
  });

  describe('when hostile or malformed', () => {
    it('escapes string literals so they cannot end the literal', () => {
      assert.equal(compile("concat(origin, 'x'') OR 1=1 --')"), "concat(`origin`, 'x\\') OR 1=1 --')");
      assert.equal(compile("concat(origin, 'a\\\\')"), "concat(`origin`, 'a\\\\\\\\')");
    });

    it('refuses functions outside the whitelist, with the offset', () => {
      assert.throws(() => parseExpression('delay + file(x)'), (error: ExpressionError) => error.offset === 8 && /unknown function "file"/.test(error.message));
      assert.throws(() => parseExpression('sleep(3)'), /unknown function "sleep"/);
    });

    it('refuses SQL syntax it does not know', () => {
      assert.throws(() => parseExpression('delay; DROP TABLE x'), (error: ExpressionError) => error.offset === 5);
      assert.throws(() => parseExpression('`delay`'), /unexpected "`"/);
      assert.throws(() => parseExpression('"quoted"'), /string literals use single quotes/);
      assert.throws(() => parseExpression('delay >> 15'), (error: ExpressionError) => error.offset === 7 && /expected a value/.test(error.message));
      assert.throws(() => parseExpression("'open"), /unterminated string/);
      assert.throws(() => parseExpression('round()'), /takes 1 to 2 argument/);
      assert.throws(() => parseExpression('('.repeat(40) + '1' + ')'.repeat(40)), /nested more than/);
    });
  });
});
