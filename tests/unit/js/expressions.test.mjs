// The shared expression table, run through the browser module. The same table runs through
// backend/forms/expressions.py (tests/unit/test_expressions.py): together they prove the
// device and the server evaluate every case alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  ExpressionSyntaxError, evaluate, parse, references,
} from '../../../pwa/static/js/domain/expressions.js';

const { cases } = JSON.parse(
  readFileSync(new URL('../../data/expression_cases.json', import.meta.url), 'utf8'),
);

test('the table is big enough and its names are unique', () => {
  assert.ok(cases.length >= 60);
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
});

for (const c of cases) {
  test(c.name, () => {
    if (c.error) {
      assert.throws(() => evaluate(c.expr, c.context), (error) => {
        assert.ok(error instanceof ExpressionSyntaxError, String(error));
        if (c.position !== undefined) assert.equal(error.position, c.position, error.message);
        return true;
      });
    } else {
      assert.deepStrictEqual(evaluate(c.expr, c.context), c.expect);
    }
  });
}

test('short-circuit operators and if/coalesce do not read the skipped side', () => {
  for (const [expr, expect] of [
    ['${a} = 0 and ${b} = 1', false],
    ['${a} = 1 or ${b} = 1', true],
    ['if(${a} = 1, ${c}, ${b})', 3],
    ['coalesce(${a}, ${b})', 1],
  ]) {
    const read = [];
    const values = new Proxy({ a: 1, b: 2, c: 3 }, {
      get(target, key) { read.push(key); return target[key]; },
      getOwnPropertyDescriptor(target, key) { read.push(key); return Reflect.getOwnPropertyDescriptor(target, key); },
    });
    assert.equal(evaluate(expr, { values }), expect, expr);
    assert.ok(!read.includes('b'), `${expr} read b`);
  }
});

test('parse is cached and the AST is reusable', () => {
  const ast = parse('${a} + 1');
  assert.equal(parse('${a} + 1'), ast);
  assert.equal(evaluate(ast, { values: { a: 41 } }), 42);
});

test('references lists fields, group fields and the current value', () => {
  assert.deepStrictEqual(
    references('sum(${members.income}) > ${limit} and . != null'),
    new Set(['members.income', 'limit', '.']),
  );
});

test('a non-string expression is a syntax error', () => {
  assert.throws(() => parse(null), ExpressionSyntaxError);
});
