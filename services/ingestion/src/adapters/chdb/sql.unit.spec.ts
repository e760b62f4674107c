import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeSourceDefinition } from '../../domain/source/source-definition';
import { conversion, fileFunction, hasGlobCharacters, identifier, isTextType, literal } from './sql';

describe('engine SQL', () => {
  it('quotes string literals so no value can end them', () => {
    assert.equal(literal("O'Hare\\"), "'O\\'Hare\\\\'");
    assert.equal(literal('a\nb\u0000'), "'a\\x0ab\\x00'");
  });

  it('refuses identifiers outside the column-name alphabet', () => {
    assert.equal(identifier('delay_2'), '`delay_2`');
    assert.throws(() => identifier('a`b'));
  });

  it('refuses file paths with glob characters, which file() would expand', () => {
    assert.ok(hasGlobCharacters('/data/*.csv') && hasGlobCharacters('/data/{a,b}.csv') && hasGlobCharacters('/data/?.csv'));
    assert.ok(!hasGlobCharacters('/data/flights-3m.parquet'));
    assert.throws(() => fileFunction('/data/*.csv', 'CSVWithNames'), /glob/);
  });

  it('parses text by the declared type and casts typed input exactly', () => {
    const [delay, origin] = normalizeSourceDefinition({ columns: [{ name: 'delay', type: 'int64' }, { name: 'origin', type: 'string' }] }).columns;
    assert.match(conversion(delay!, 'Nullable(String)', '__raw_0').parsed, /toInt64OrNull\(nullIf\(trimBoth\(`__raw_0`\), ''\)\)/);
    assert.match(conversion(delay!, 'Nullable(Float64)', '__raw_0').parsed, /accurateCastOrNull\(`__raw_0`, 'Int64'\)/);
    assert.match(conversion(origin!, 'Nullable(String)', '__raw_1').parsed, /CAST\(`__raw_1`, 'Nullable\(String\)'\)/);
    assert.ok(isTextType('LowCardinality(Nullable(String))') && !isTextType('Nullable(Int64)'));
  });
});
