// The small, safe expression language of pipeline definitions: `when:` conditions, `${{ … }}`
// references in step inputs, and the `where:` filters of event triggers. It is parsed into a tree
// and interpreted here: no `eval`, no property access outside the values given, no functions
// beyond the few listed, no loops, so an expression cannot run away or reach the process.
//
//   literals     "text" 'text' 12 3.5 true false null [1, "a"]
//   names        params.minAuc   steps.train.outputs.auc   event.modelName   (dot paths)
//   operators    ! && || == != < <= > >= in   ( )            (usual precedence)
//   functions    contains(list|text, x)  startsWith(text, prefix)  endsWith(text, suffix)
//                len(list|text)  string(x)  number(x)
//
// Comparisons do not convert types (`true == "true"` is false), except that a number compared with
// a text made of digits compares as numbers: proto3 JSON spells 64-bit integers as text
// (`rowCount: "1200"`).

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export type Expression =
  | { readonly kind: 'literal'; readonly value: JsonValue }
  | { readonly kind: 'path'; readonly path: readonly string[] }
  | { readonly kind: 'list'; readonly items: readonly Expression[] }
  | { readonly kind: 'not'; readonly operand: Expression }
  | { readonly kind: 'binary'; readonly operator: BinaryOperator; readonly left: Expression; readonly right: Expression }
  | { readonly kind: 'call'; readonly name: FunctionName; readonly args: readonly Expression[] };

export type BinaryOperator = '&&' | '||' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in';
type FunctionName = 'contains' | 'startsWith' | 'endsWith' | 'len' | 'string' | 'number';
const functionArity: Readonly<Record<FunctionName, number>> = { contains: 2, startsWith: 2, endsWith: 2, len: 1, string: 1, number: 1 };

/** A syntax or evaluation error; `message` says what and where (character offset). */
export class ExpressionError extends Error {}

const maxLength = 4_000;
const maxDepth = 64;

type Token =
  | { readonly type: 'number'; readonly value: number; readonly at: number }
  | { readonly type: 'string'; readonly value: string; readonly at: number }
  | { readonly type: 'name'; readonly value: string; readonly at: number }
  | { readonly type: 'op'; readonly value: string; readonly at: number }
  | { readonly type: 'end'; readonly at: number };

function tokenize(source: string): Token[] {
  if (source.length > maxLength) throw new ExpressionError(`expression longer than ${maxLength} characters`);
  const tokens: Token[] = [];
  let index = 0;
  while (index < source.length) {
    const char = source[index]!;
    if (/\s/.test(char)) {
      index += 1;
      continue;
    }
    const at = index;
    if (/[0-9]/.test(char)) {
      const match = /^\d+(\.\d+)?([eE][+-]?\d+)?/.exec(source.slice(index))!;
      tokens.push({ type: 'number', value: Number(match[0]), at });
      index += match[0].length;
      continue;
    }
    if (char === '"' || char === "'") {
      let value = '';
      index += 1;
      for (;;) {
        if (index >= source.length) throw new ExpressionError(`unterminated text starting at ${at}`);
        const next = source[index]!;
        if (next === char) break;
        if (next === '\\') {
          const escaped = source[index + 1];
          const map: Record<string, string> = { n: '\n', t: '\t', '\\': '\\', '"': '"', "'": "'" };
          if (escaped === undefined || map[escaped] === undefined) throw new ExpressionError(`invalid escape at ${index}`);
          value += map[escaped];
          index += 2;
          continue;
        }
        value += next;
        index += 1;
      }
      index += 1;
      tokens.push({ type: 'string', value, at });
      continue;
    }
    if (/[A-Za-z_]/.test(char)) {
      const match = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(source.slice(index))!;
      // A trailing '-' belongs to no name (`a-` is not an identifier).
      const name = match[0].replace(/-+$/, '');
      tokens.push({ type: 'name', value: name, at });
      index += name.length;
      continue;
    }
    const two = source.slice(index, index + 2);
    if (['&&', '||', '==', '!=', '<=', '>='].includes(two)) {
      tokens.push({ type: 'op', value: two, at });
      index += 2;
      continue;
    }
    if ('!<>()[],.'.includes(char)) {
      tokens.push({ type: 'op', value: char, at });
      index += 1;
      continue;
    }
    throw new ExpressionError(`unexpected character ${JSON.stringify(char)} at ${at}`);
  }
  tokens.push({ type: 'end', at: source.length });
  return tokens;
}

function isOp(token: Token, value: string): boolean {
  return token.type === 'op' && token.value === value;
}

const precedence: Readonly<Record<string, number>> = { '||': 1, '&&': 2, '==': 3, '!=': 3, '<': 4, '<=': 4, '>': 4, '>=': 4, in: 4 };

/** Parses an expression; throws `ExpressionError` naming the offending place. */
export function parseExpression(source: string): Expression {
  const tokens = tokenize(source);
  let position = 0;
  const peek = (): Token => tokens[position]!;
  const take = (): Token => tokens[position++]!;
  const describe = (token: Token): string => (token.type === 'end' ? 'end of expression' : `"${String(token.value)}" at ${token.at}`);
  const expectOp = (value: string): void => {
    const token = take();
    if (token.type !== 'op' || token.value !== value) throw new ExpressionError(`expected "${value}" but found ${describe(token)}`);
  };

  const parseBinary = (minPrecedence: number, depth: number): Expression => {
    if (depth > maxDepth) throw new ExpressionError('expression nested too deeply');
    let left = parseUnary(depth);
    for (;;) {
      const token = peek();
      const operator = token.type === 'op' || (token.type === 'name' && token.value === 'in') ? String(token.value) : undefined;
      const level = operator === undefined ? undefined : precedence[operator];
      if (level === undefined || level < minPrecedence) return left;
      take();
      const right = parseBinary(level + 1, depth + 1);
      left = { kind: 'binary', operator: operator as BinaryOperator, left, right };
    }
  };

  const parseUnary = (depth: number): Expression => {
    const token = peek();
    if (token.type === 'op' && token.value === '!') {
      take();
      return { kind: 'not', operand: parseUnary(depth + 1) };
    }
    return parsePrimary(depth);
  };

  const parsePrimary = (depth: number): Expression => {
    const token = take();
    switch (token.type) {
      case 'number':
      case 'string':
        return { kind: 'literal', value: token.value };
      case 'name': {
        if (token.value === 'true' || token.value === 'false') return { kind: 'literal', value: token.value === 'true' };
        if (token.value === 'null') return { kind: 'literal', value: null };
        const next = peek();
        if (next.type === 'op' && next.value === '(') {
          if (!(token.value in functionArity)) throw new ExpressionError(`unknown function "${token.value}" at ${token.at}`);
          take();
          const args: Expression[] = [];
          if (!isOp(peek(), ')')) {
            for (;;) {
              args.push(parseBinary(1, depth + 1));
              const separator = peek();
              if (separator.type === 'op' && separator.value === ',') {
                take();
                continue;
              }
              break;
            }
          }
          expectOp(')');
          const name = token.value as FunctionName;
          if (args.length !== functionArity[name]) throw new ExpressionError(`${name}() takes ${functionArity[name]} argument(s), got ${args.length}`);
          return { kind: 'call', name, args };
        }
        const path = [token.value];
        while (isOp(peek(), '.')) {
          take();
          const segment = take();
          if (segment.type !== 'name' && segment.type !== 'number') throw new ExpressionError(`expected a name after "." but found ${describe(segment)}`);
          path.push(String(segment.value));
        }
        return { kind: 'path', path };
      }
      case 'op': {
        if (token.value === '(') {
          const inner = parseBinary(1, depth + 1);
          expectOp(')');
          return inner;
        }
        if (token.value === '[') {
          const items: Expression[] = [];
          if (!isOp(peek(), ']')) {
            for (;;) {
              items.push(parseBinary(1, depth + 1));
              const separator = peek();
              if (separator.type === 'op' && separator.value === ',') {
                take();
                continue;
              }
              break;
            }
          }
          expectOp(']');
          return { kind: 'list', items };
        }
        throw new ExpressionError(`unexpected ${describe(token)}`);
      }
      case 'end':
        throw new ExpressionError('unexpected end of expression');
      default: {
        const unreachable: never = token;
        throw new ExpressionError(`unexpected token ${JSON.stringify(unreachable)}`);
      }
    }
  };

  const expression = parseBinary(1, 0);
  const rest = peek();
  if (rest.type !== 'end') throw new ExpressionError(`unexpected ${describe(rest)}`);
  return expression;
}

/** Every dot path the expression reads, e.g. `[['steps','train','outputs','auc']]`. */
export function referencedPaths(expression: Expression): string[][] {
  switch (expression.kind) {
    case 'literal':
      return [];
    case 'path':
      return [[...expression.path]];
    case 'list':
      return expression.items.flatMap(referencedPaths);
    case 'not':
      return referencedPaths(expression.operand);
    case 'binary':
      return [...referencedPaths(expression.left), ...referencedPaths(expression.right)];
    case 'call':
      return expression.args.flatMap(referencedPaths);
    default: {
      const unreachable: never = expression;
      throw new Error(`unknown expression ${JSON.stringify(unreachable)}`);
    }
  }
}

/** What names resolve to: a path of the context, or `undefined` when absent. */
export type Scope = (path: readonly string[]) => JsonValue | undefined;

/** A scope over a plain object: `{ params, steps, event }` and so on. */
export function objectScope(root: { readonly [key: string]: JsonValue | undefined }): Scope {
  return (path) => {
    let current: JsonValue | undefined = root as JsonValue;
    for (const segment of path) {
      if (current === null || current === undefined || typeof current !== 'object') return undefined;
      if (Array.isArray(current)) {
        current = /^\d+$/.test(segment) ? (current as readonly JsonValue[])[Number(segment)] : undefined;
      } else {
        // Own properties only: `constructor`, `__proto__` and friends never resolve.
        const record = current as { readonly [key: string]: JsonValue };
        current = Object.prototype.hasOwnProperty.call(record, segment) ? record[segment] : undefined;
      }
    }
    return current;
  };
}

/** Evaluates to a JSON value. A missing name is `null`; type errors throw `ExpressionError`. */
export function evaluate(expression: Expression, scope: Scope): JsonValue {
  switch (expression.kind) {
    case 'literal':
      return expression.value;
    case 'path':
      return scope(expression.path) ?? null;
    case 'list':
      return expression.items.map((item) => evaluate(item, scope));
    case 'not':
      return !truthy(evaluate(expression.operand, scope));
    case 'binary': {
      const { operator } = expression;
      if (operator === '&&') return truthy(evaluate(expression.left, scope)) && truthy(evaluate(expression.right, scope));
      if (operator === '||') return truthy(evaluate(expression.left, scope)) || truthy(evaluate(expression.right, scope));
      const left = evaluate(expression.left, scope);
      const right = evaluate(expression.right, scope);
      switch (operator) {
        case '==':
          return equal(left, right);
        case '!=':
          return !equal(left, right);
        case 'in':
          if (Array.isArray(right)) return (right as readonly JsonValue[]).some((item) => equal(item, left));
          if (typeof right === 'string' && typeof left === 'string') return right.includes(left);
          if (right === null) return false;
          throw new ExpressionError(`"in" needs a list or a text on its right, got ${typeName(right)}`);
        default:
          return compare(operator, left, right);
      }
    }
    case 'call':
      return call(expression.name, expression.args.map((arg) => evaluate(arg, scope)));
    default: {
      const unreachable: never = expression;
      throw new ExpressionError(`unknown expression ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Evaluates a condition: anything but `false`, `null`, `0` and `""` counts as true. */
export function evaluateCondition(expression: Expression, scope: Scope): boolean {
  return truthy(evaluate(expression, scope));
}

function truthy(value: JsonValue): boolean {
  return !(value === false || value === null || value === 0 || value === '');
}

function numeric(value: JsonValue): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return undefined;
}

function equal(left: JsonValue, right: JsonValue): boolean {
  if (typeof left === 'number' || typeof right === 'number') {
    const a = numeric(left);
    const b = numeric(right);
    return a !== undefined && b !== undefined && a === b;
  }
  if (Array.isArray(left) && Array.isArray(right)) return left.length === right.length && left.every((item, index) => equal(item as JsonValue, (right as readonly JsonValue[])[index]!));
  if (left !== null && right !== null && typeof left === 'object' && typeof right === 'object') return JSON.stringify(left) === JSON.stringify(right);
  return left === right;
}

function compare(operator: '<' | '<=' | '>' | '>=', left: JsonValue, right: JsonValue): boolean {
  let a: number | string;
  let b: number | string;
  if (typeof left === 'string' && typeof right === 'string') {
    a = left;
    b = right;
  } else {
    const x = numeric(left);
    const y = numeric(right);
    if (x === undefined || y === undefined) throw new ExpressionError(`cannot compare ${typeName(left)} ${operator} ${typeName(right)}`);
    a = x;
    b = y;
  }
  switch (operator) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    default: {
      const unreachable: never = operator;
      throw new ExpressionError(`unknown operator ${String(unreachable)}`);
    }
  }
}

function call(name: FunctionName, args: JsonValue[]): JsonValue {
  const [first, second] = args as [JsonValue, JsonValue];
  switch (name) {
    case 'contains':
      if (Array.isArray(first)) return (first as readonly JsonValue[]).some((item) => equal(item, second));
      if (typeof first === 'string' && typeof second === 'string') return first.includes(second);
      throw new ExpressionError(`contains() needs a list or a text, got ${typeName(first)}`);
    case 'startsWith':
    case 'endsWith':
      if (typeof first !== 'string' || typeof second !== 'string') throw new ExpressionError(`${name}() needs two texts`);
      return name === 'startsWith' ? first.startsWith(second) : first.endsWith(second);
    case 'len':
      if (Array.isArray(first) || typeof first === 'string') return first.length;
      if (first !== null && typeof first === 'object') return Object.keys(first).length;
      throw new ExpressionError(`len() needs a list, a text or an object, got ${typeName(first)}`);
    case 'string':
      return typeof first === 'string' ? first : JSON.stringify(first);
    case 'number': {
      const value = numeric(first);
      if (value === undefined) throw new ExpressionError(`number() cannot convert ${typeName(first)} ${JSON.stringify(first)}`);
      return value;
    }
    default: {
      const unreachable: never = name;
      throw new ExpressionError(`unknown function ${String(unreachable)}`);
    }
  }
}

export function typeName(value: JsonValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  return typeof value === 'object' ? 'object' : typeof value === 'number' ? 'number' : typeof value;
}
