// Evaluates expressions with the browser module for tests/unit/test_expressions_differential.py.
// One process for a whole test run: each stdin line is {"expr", "context"}, each stdout line
// the outcome, in order: {"value": ...} or {"error": class name, "position"?}. Non-finite
// numbers and undefined are spelled out, so JSON cannot hide them as null.
import { createInterface } from 'node:readline';

import { evaluate } from '../../../pwa/static/js/domain/expressions.js';

function plain(value) {
  if (value === undefined) return { $undefined: true };
  if (typeof value === 'number' && !Number.isFinite(value)) return { $nonfinite: String(value) };
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function outcome({ expr, context }) {
  try {
    return { value: plain(evaluate(expr, context)) };
  } catch (error) {
    return { error: error?.name ?? typeof error, position: error?.position ?? null };
  }
}

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim()) process.stdout.write(`${JSON.stringify(outcome(JSON.parse(line)))}\n`);
}
