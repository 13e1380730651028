// The form expression language, in the browser. A line-by-line twin of
// backend/forms/expressions.py: grammar, limits and semantics are documented there once, and
// tests/data/expression_cases.json runs through both so the device and the server agree.
// Things JS does differently by default, fixed here on purpose:
// - text is handled as code points (Array.from), so positions, string-length and string
//   ordering match Python rather than counting UTF-16 units;
// - numbers read from the context keep JS semantics (already doubles); -0 is returned as 0;
// - round() rounds the shortest decimal form half away from zero, never Math.round.

export const MAX_LENGTH = 2000;
export const MAX_DEPTH = 64;

// name -> [minimum argument count, maximum or null for "any"]
export const FUNCTIONS = Object.freeze({
  if: [3, 3],
  coalesce: [2, null],
  sum: [1, 1],
  count: [1, 1],
  selected: [2, 2],
  'count-selected': [1, 1],
  round: [1, 2],
  'string-length': [1, 1],
  min: [1, null],
  max: [1, null],
  int: [1, 1],
  not: [1, 1],
});
const HYPHENATED = ['count-selected', 'string-length'];
const KEYWORDS = new Set(['and', 'or', 'true', 'false', 'null']);
const COMPARISONS = ['=', '!=', '<', '<=', '>', '>='];
const WHITESPACE = ' \t\r\n';
const DIGITS = '0123456789';
const WORD_START = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_';
const WORD = WORD_START + DIGITS;
const MAX_SAFE_INTEGER = 2 ** 53;

/** The text is not an expression of this language; `position` is a 0-based code point. */
export class ExpressionSyntaxError extends Error {
  constructor(message, position) {
    super(`${message} (at position ${position})`);
    this.name = 'ExpressionSyntaxError';
    this.reason = message;
    this.position = position;
  }
}

const has = (set, c) => c !== undefined && set.includes(c);

function startsWith(chars, prefix, i) {
  const p = Array.from(prefix);
  for (let k = 0; k < p.length; k += 1) if (chars[i + k] !== p[k]) return false;
  return true;
}

// ---------------------------------------------------------------- tokens

function tokenize(chars) {
  const tokens = [];
  const n = chars.length;
  let i = 0;
  while (i < n) {
    const c = chars[i];
    if (has(WHITESPACE, c)) {
      i += 1;
    } else if (has(DIGITS, c)) {
      const start = i;
      while (i < n && has(DIGITS, chars[i])) i += 1;
      if (i + 1 < n && chars[i] === '.' && has(DIGITS, chars[i + 1])) {
        i += 1;
        while (i < n && has(DIGITS, chars[i])) i += 1;
      }
      // A literal too big for a double is null, like any other non-finite number.
      tokens.push(['num', finite(Number(chars.slice(start, i).join(''))), start]);
    } else if (c === "'" || c === '"') {
      const end = chars.indexOf(c, i + 1);
      if (end < 0) throw new ExpressionSyntaxError('unterminated string', i);
      tokens.push(['str', chars.slice(i + 1, end).join(''), i]);
      i = end + 1;
    } else if (c === '$') {
      i = fieldToken(chars, i, tokens);
    } else if (c === '.') {
      tokens.push(['current', null, i]);
      i += 1;
    } else if (has(WORD_START, c)) {
      const start = i;
      let word = HYPHENATED.find(
        (h) => startsWith(chars, h, i) && (i + h.length >= n || !has(WORD, chars[i + h.length])),
      );
      if (word === undefined) {
        while (i < n && has(WORD, chars[i])) i += 1;
        word = chars.slice(start, i).join('');
      } else {
        i += word.length;
      }
      if (KEYWORDS.has(word)) tokens.push(['kw', word, start]);
      else if (Object.hasOwn(FUNCTIONS, word)) tokens.push(['func', word, start]);
      else throw new ExpressionSyntaxError(`unknown name '${word}'`, start);
    } else if (['!=', '<=', '>='].some((op) => startsWith(chars, op, i))) {
      tokens.push(['op', c + chars[i + 1], i]);
      i += 2;
    } else if (has('=<>+-*/(),', c)) {
      tokens.push(['op', c, i]);
      i += 1;
    } else {
      throw new ExpressionSyntaxError(`unexpected character '${c}'`, i);
    }
  }
  tokens.push(['eof', null, n]);
  return tokens;
}

function nameEnd(chars, i) {
  if (i >= chars.length || !has(WORD_START, chars[i])) return -1;
  while (i < chars.length && has(WORD, chars[i])) i += 1;
  return i;
}

// `${name}` or `${group.field}`.
function fieldToken(chars, start, tokens) {
  if (!startsWith(chars, '${', start)) {
    throw new ExpressionSyntaxError("expected '${' to start a field reference", start);
  }
  let end = nameEnd(chars, start + 2);
  if (end < 0) throw new ExpressionSyntaxError("expected a field name after '${'", start + 2);
  const name = chars.slice(start + 2, end).join('');
  let sub = null;
  if (end < chars.length && chars[end] === '.') {
    const subEnd = nameEnd(chars, end + 1);
    if (subEnd < 0) throw new ExpressionSyntaxError("expected a field name after '.'", end + 1);
    sub = chars.slice(end + 1, subEnd).join('');
    end = subEnd;
  }
  if (end >= chars.length || chars[end] !== '}') {
    throw new ExpressionSyntaxError("expected '}' to close the field reference", end);
  }
  tokens.push(['field', [name, sub], start]);
  return end + 1;
}

// ---------------------------------------------------------------- parser
// AST nodes are frozen arrays shaped like the Python tuples:
//   ['lit', v] ['field', name, sub|null] ['current'] ['neg', node]
//   ['arith', [operands], [ops]] ['cmp', op, l, r] ['and', [nodes]] ['or', [nodes]]
//   ['call', name, [args]]

function describe(kind, value) {
  switch (kind) {
    case 'eof': return 'end of expression';
    case 'num': return 'number';
    case 'str': return 'string';
    case 'field': return 'field reference';
    case 'current': return "'.'";
    default: return `'${value}'`;
  }
}

class Parser {
  constructor(tokens) {
    this.tokens = tokens;
    this.i = 0;
    this.depth = 0;
  }

  peek() { return this.tokens[this.i]; }

  advance() { const t = this.tokens[this.i]; this.i += 1; return t; }

  isOp(...ops) { const [kind, value] = this.peek(); return kind === 'op' && ops.includes(value); }

  isKw(word) { const [kind, value] = this.peek(); return kind === 'kw' && value === word; }

  expectOp(op) {
    if (!this.isOp(op)) throw new ExpressionSyntaxError(`expected '${op}'`, this.peek()[2]);
    this.advance();
  }

  enter(position) {
    this.depth += 1;
    if (this.depth > MAX_DEPTH) {
      throw new ExpressionSyntaxError(`nested deeper than ${MAX_DEPTH}`, position);
    }
  }

  parse() {
    if (this.peek()[0] === 'eof') throw new ExpressionSyntaxError('empty expression', 0);
    const node = this.parseOr();
    const [kind, value, position] = this.peek();
    if (kind !== 'eof') throw new ExpressionSyntaxError(`unexpected ${describe(kind, value)}`, position);
    return node;
  }

  parseOr() {
    const items = [this.parseAnd()];
    while (this.isKw('or')) { this.advance(); items.push(this.parseAnd()); }
    return items.length === 1 ? items[0] : Object.freeze(['or', Object.freeze(items)]);
  }

  parseAnd() {
    const items = [this.parseCmp()];
    while (this.isKw('and')) { this.advance(); items.push(this.parseCmp()); }
    return items.length === 1 ? items[0] : Object.freeze(['and', Object.freeze(items)]);
  }

  parseCmp() {
    const left = this.parseAdd();
    if (!this.isOp(...COMPARISONS)) return left;
    const op = this.advance()[1];
    const right = this.parseAdd();
    if (this.isOp(...COMPARISONS)) {
      throw new ExpressionSyntaxError("comparisons cannot be chained; use 'and'", this.peek()[2]);
    }
    return Object.freeze(['cmp', op, left, right]);
  }

  parseAdd() { return this.chain(() => this.parseMul(), ['+', '-']); }

  parseMul() { return this.chain(() => this.parseUnary(), ['*', '/']); }

  chain(operand, ops) {
    const operands = [operand()];
    const operators = [];
    while (this.isOp(...ops)) {
      operators.push(this.advance()[1]);
      operands.push(operand());
    }
    if (operators.length === 0) return operands[0];
    return Object.freeze(['arith', Object.freeze(operands), Object.freeze(operators)]);
  }

  parseUnary() {
    if (this.isOp('-')) {
      const position = this.advance()[2];
      this.enter(position);
      const operand = this.parseUnary();
      this.depth -= 1;
      return Object.freeze(['neg', operand]);
    }
    return this.parsePrimary();
  }

  parsePrimary() {
    const [kind, value, position] = this.advance();
    if (kind === 'num' || kind === 'str') return Object.freeze(['lit', value]);
    if (kind === 'kw' && (value === 'true' || value === 'false' || value === 'null')) {
      return Object.freeze(['lit', { true: true, false: false, null: null }[value]]);
    }
    if (kind === 'field') return Object.freeze(['field', value[0], value[1]]);
    if (kind === 'current') return Object.freeze(['current']);
    if (kind === 'op' && value === '(') {
      this.enter(position);
      const node = this.parseOr();
      this.expectOp(')');
      this.depth -= 1;
      return node;
    }
    if (kind === 'func') return this.parseCall(value, position);
    throw new ExpressionSyntaxError(`unexpected ${describe(kind, value)}`, position);
  }

  parseCall(name, position) {
    this.expectOp('(');
    this.enter(position);
    const args = [];
    if (!this.isOp(')')) {
      args.push(this.parseOr());
      while (this.isOp(',')) { this.advance(); args.push(this.parseOr()); }
    }
    this.expectOp(')');
    this.depth -= 1;
    const [low, high] = FUNCTIONS[name];
    if (args.length < low || (high !== null && args.length > high)) {
      let wanted = `${low}-${high}`;
      if (low === high) wanted = String(low);
      else if (high === null) wanted = `${low} or more`;
      throw new ExpressionSyntaxError(
        `${name}() takes ${wanted} argument(s), got ${args.length}`, position);
    }
    return Object.freeze(['call', name, Object.freeze(args)]);
  }
}

const cache = new Map();
const CACHE_SIZE = 1024;

/** Parse once, evaluate many times. Throws ExpressionSyntaxError. */
export function parse(text) {
  if (typeof text !== 'string') throw new ExpressionSyntaxError('an expression must be a string', 0);
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const chars = Array.from(text);
  if (chars.length > MAX_LENGTH) {
    throw new ExpressionSyntaxError(`longer than ${MAX_LENGTH} characters`, MAX_LENGTH);
  }
  const ast = new Parser(tokenize(chars)).parse();
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value);
  cache.set(text, ast);
  return ast;
}

/** Field names an expression reads: `name`, `group.field` and `.` for the current value. */
export function references(astOrText) {
  const ast = typeof astOrText === 'string' ? parse(astOrText) : astOrText;
  const found = new Set();
  const stack = [ast];
  while (stack.length) {
    const node = stack.pop();
    switch (node[0]) {
      case 'field': found.add(node[2] === null ? node[1] : `${node[1]}.${node[2]}`); break;
      case 'current': found.add('.'); break;
      case 'neg': stack.push(node[1]); break;
      case 'arith': case 'and': case 'or': stack.push(...node[1]); break;
      case 'cmp': stack.push(node[2], node[3]); break;
      case 'call': stack.push(...node[2]); break;
      default: break;
    }
  }
  return found;
}

// ---------------------------------------------------------------- values

function isObject(v) { return typeof v === 'object' && v !== null && !Array.isArray(v); }

// A context value as the language sees it (undefined and non-finite numbers are null).
function read(value) {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean' || typeof value === 'string' || Array.isArray(value)) return value;
  if (isObject(value)) return value;
  return null;
}

const isNumber = (v) => typeof v === 'number';
const finite = (n) => (Number.isFinite(n) ? n : null);

export function isTruthy(value) {
  if (value === null || value === undefined || value === false) return false;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  if (typeof value === 'string' || Array.isArray(value)) return value.length > 0;
  return true;
}

function equal(a, b) {
  if (a === null || b === null) return a === null && b === null;
  if (typeof a === 'boolean' || typeof b === 'boolean') return a === b;
  if (isNumber(a) && isNumber(b)) return a === b;
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  return false;
}

// Code point order, as Python compares str (JS `<` compares UTF-16 units).
function compareStrings(a, b) {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let k = 0; k < Math.min(x.length, y.length); k += 1) {
    const d = x[k].codePointAt(0) - y[k].codePointAt(0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function order(op, a, b) {
  let d;
  if (isNumber(a) && isNumber(b)) d = a - b;
  else if (typeof a === 'string' && typeof b === 'string') d = compareStrings(a, b);
  else return false;
  if (op === '<') return d < 0;
  if (op === '<=') return d <= 0;
  if (op === '>') return d > 0;
  return d >= 0;
}

// Shortest round-trip decimal of x >= 0 as [digits, exponent]: x === Number(digits) * 10**exponent.
function decimalDigits(x) {
  const [mantissa, exp] = String(x).split('e');
  const [whole, fraction = ''] = mantissa.split('.');
  const digits = (whole + fraction).replace(/^0+/, '') || '0';
  return [digits, (exp === undefined ? 0 : Number(exp)) - fraction.length];
}

// Add one to a string of decimal digits (no floats: they would lose digits past 2**53).
function increment(digits) {
  const chars = digits.split('');
  let i = chars.length - 1;
  while (i >= 0 && chars[i] === '9') { chars[i] = '0'; i -= 1; }
  if (i < 0) return `1${chars.join('')}`;
  chars[i] = String(Number(chars[i]) + 1);
  return chars.join('');
}

/** Round the decimal form of x to `places` decimals, halves away from zero (money rules). */
export function roundHalfAway(x, places = 0) {
  if (x === 0 || !Number.isFinite(x)) return x + 0;
  const sign = x < 0 ? -1 : 1;
  const [digits, exponent] = decimalDigits(Math.abs(x));
  if (exponent >= -places) return x;
  const drop = -places - exponent;
  if (drop > digits.length) return 0;
  let keep = digits.slice(0, digits.length - drop) || '0';
  if (digits[digits.length - drop] >= '5') keep = increment(keep);
  return sign * Number(`${keep}e${-places}`) + 0;
}

function numbersIn(value) {
  const items = Array.isArray(value) ? value : [value];
  return items.map(read).filter(isNumber);
}

function sumOf(value) {
  // Left-to-right addition, as in Python: the two sides must agree to the bit.
  let total = 0;
  for (const n of numbersIn(value)) total += n;
  return finite(total);
}

function countOf(value) {
  if (value === null) return 0;
  if (Array.isArray(value)) return value.filter((item) => item !== null && item !== undefined).length;
  return 1;
}

function answers(value) {
  if (Array.isArray(value)) return value.filter((a) => a !== null && a !== undefined).map(read);
  if (typeof value === 'string') return value.split(' ').filter((p) => p);
  return [];
}

// ---------------------------------------------------------------- evaluator

class Evaluator {
  constructor(values, entry, current) {
    this.values = values;
    this.entry = entry;
    this.current = current;
  }

  field(name, sub) {
    if (sub !== null) {
      const rows = Object.hasOwn(this.values, name) ? this.values[name] : null;
      if (!Array.isArray(rows)) return null;
      return rows.map((row) => (isObject(row) && Object.hasOwn(row, sub) ? read(row[sub]) : null));
    }
    if (this.entry !== null && Object.hasOwn(this.entry, name)) return read(this.entry[name]);
    return Object.hasOwn(this.values, name) ? read(this.values[name]) : null;
  }

  run(node) {
    switch (node[0]) {
      case 'lit': return node[1];
      case 'field': return this.field(node[1], node[2]);
      case 'current': return this.current;
      case 'neg': {
        const value = this.run(node[1]);
        return isNumber(value) ? -value + 0 : null;
      }
      case 'arith': return this.arith(node[1], node[2]);
      case 'cmp': {
        const left = this.run(node[2]);
        const right = this.run(node[3]);
        if (node[1] === '=') return equal(left, right);
        if (node[1] === '!=') return !equal(left, right);
        return order(node[1], left, right);
      }
      case 'and': return node[1].every((item) => isTruthy(this.run(item)));
      case 'or': return node[1].some((item) => isTruthy(this.run(item)));
      default: return this.call(node[1], node[2]);
    }
  }

  arith(operands, operators) {
    let result = this.run(operands[0]);
    for (let k = 0; k < operators.length; k += 1) {
      const right = this.run(operands[k + 1]);
      const op = operators[k];
      if (!(isNumber(result) && isNumber(right))) result = null;
      else if (op === '+') result = finite(result + right);
      else if (op === '-') result = finite(result - right);
      else if (op === '*') result = finite(result * right);
      else result = right === 0 ? null : finite(result / right);
    }
    return result;
  }

  call(name, args) {
    // Lazy ones first: they must not evaluate the arguments they do not need.
    if (name === 'if') return this.run(isTruthy(this.run(args[0])) ? args[1] : args[2]);
    if (name === 'coalesce') {
      for (const arg of args) {
        const value = this.run(arg);
        if (value !== null && value !== '') return value;
      }
      return null;
    }
    const values = args.map((arg) => this.run(arg));
    switch (name) {
      case 'not': return !isTruthy(values[0]);
      case 'sum': return sumOf(values[0]);
      case 'count': return countOf(values[0]);
      case 'min':
      case 'max': {
        const found = values.flatMap(numbersIn);
        if (found.length === 0) return null;
        return name === 'min' ? Math.min(...found) : Math.max(...found);
      }
      case 'selected': return answers(values[0]).some((answer) => equal(answer, values[1]));
      case 'count-selected': return answers(values[0]).length;
      case 'round': {
        const x = values[0];
        const places = values.length > 1 ? values[1] : 0;
        if (!isNumber(x) || !isNumber(places) || !Number.isInteger(places) || Math.abs(places) > 15) {
          return null;
        }
        return finite(roundHalfAway(x, places));
      }
      case 'string-length':
        if (values[0] === null) return 0;
        return typeof values[0] === 'string' ? Array.from(values[0]).length : null;
      default: // int
        return isNumber(values[0]) ? Math.trunc(values[0]) + 0 : null;
    }
  }
}

function exportValue(value) {
  if (value === 0) return 0; // -0 → 0, as Python's int(-0.0)
  return value;
}

/**
 * Evaluate an expression. `context` is `{values, entry, current}`, every key optional:
 * `values` the top-level fields (repeat groups as arrays of objects, plus read-only context
 * values such as case_kind), `entry` the repeat entry being evaluated (its fields shadow
 * top-level ones), `current` the value bound to `.`.
 */
export function evaluate(astOrText, context = {}) {
  const ast = typeof astOrText === 'string' ? parse(astOrText) : astOrText;
  const ctx = context || {};
  const values = isObject(ctx.values) ? ctx.values : {};
  const entry = isObject(ctx.entry) ? ctx.entry : null;
  return exportValue(new Evaluator(values, entry, read(ctx.current)).run(ast));
}
