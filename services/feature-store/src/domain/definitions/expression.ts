// The feature expression language: a small, whitelisted subset compiled to ClickHouse SQL.
// Users write `delay > 15`, `if(delay > 15, 1, 0)`, `hour(date)`, `distance / 1000`; they never
// write SQL. Every identifier must be a plain column name (emitted back-quoted), every function is
// looked up in a fixed table, and string literals are re-escaped, so nothing a definition holds can
// change the shape of the query it is compiled into.

export type ValueType = 'int64' | 'double' | 'string' | 'bool' | 'timestamp';

export type Expression =
  | { readonly kind: 'number'; readonly value: number; readonly integer: boolean }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'null' }
  | { readonly kind: 'column'; readonly name: string }
  | { readonly kind: 'unary'; readonly operator: '-' | 'not'; readonly operand: Expression }
  | { readonly kind: 'binary'; readonly operator: BinaryOperator; readonly left: Expression; readonly right: Expression }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expression[] };

type BinaryOperator = '+' | '-' | '*' | '/' | '%' | '=' | '!=' | '<' | '<=' | '>' | '>=' | 'and' | 'or';

/** A problem in an expression, with the 0-based character offset where it was found. */
export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

interface FunctionSpec {
  readonly sql: string;
  readonly arity: readonly [number, number];
  /** The result type, or 'arg' for the type of the first argument. */
  readonly returns: ValueType | 'arg' | 'unknown';
}

/** The whitelist: expression function → ClickHouse function. Nothing else can be called. */
const functions: Readonly<Record<string, FunctionSpec>> = {
  abs: { sql: 'abs', arity: [1, 1], returns: 'arg' },
  round: { sql: 'round', arity: [1, 2], returns: 'double' },
  floor: { sql: 'floor', arity: [1, 1], returns: 'double' },
  ceil: { sql: 'ceil', arity: [1, 1], returns: 'double' },
  sqrt: { sql: 'sqrt', arity: [1, 1], returns: 'double' },
  ln: { sql: 'log', arity: [1, 1], returns: 'double' },
  exp: { sql: 'exp', arity: [1, 1], returns: 'double' },
  least: { sql: 'least', arity: [2, 2], returns: 'arg' },
  greatest: { sql: 'greatest', arity: [2, 2], returns: 'arg' },
  if: { sql: 'if', arity: [3, 3], returns: 'unknown' },
  coalesce: { sql: 'coalesce', arity: [2, 8], returns: 'arg' },
  is_null: { sql: 'isNull', arity: [1, 1], returns: 'bool' },
  lower: { sql: 'lower', arity: [1, 1], returns: 'string' },
  upper: { sql: 'upper', arity: [1, 1], returns: 'string' },
  length: { sql: 'length', arity: [1, 1], returns: 'int64' },
  concat: { sql: 'concat', arity: [2, 8], returns: 'string' },
  to_string: { sql: 'toString', arity: [1, 1], returns: 'string' },
  to_double: { sql: 'toFloat64', arity: [1, 1], returns: 'double' },
  to_int: { sql: 'toInt64', arity: [1, 1], returns: 'int64' },
  year: { sql: 'toYear', arity: [1, 1], returns: 'int64' },
  month: { sql: 'toMonth', arity: [1, 1], returns: 'int64' },
  day_of_month: { sql: 'toDayOfMonth', arity: [1, 1], returns: 'int64' },
  // ISO weekday: Monday = 1 … Sunday = 7.
  weekday: { sql: 'toDayOfWeek', arity: [1, 1], returns: 'int64' },
  hour: { sql: 'toHour', arity: [1, 1], returns: 'int64' },
  minute: { sql: 'toMinute', arity: [1, 1], returns: 'int64' },
};

export const expressionFunctions: readonly string[] = Object.keys(functions).sort();

type Token =
  | { readonly type: 'number'; readonly text: string; readonly offset: number }
  | { readonly type: 'string'; readonly value: string; readonly offset: number }
  | { readonly type: 'identifier'; readonly text: string; readonly offset: number }
  | { readonly type: 'symbol'; readonly text: string; readonly offset: number }
  | { readonly type: 'end'; readonly offset: number };

const symbols = ['<=', '>=', '!=', '<>', '==', '&&', '||', '+', '-', '*', '/', '%', '=', '<', '>', '(', ')', ',', '!'];
const maxLength = 2_000;
const maxDepth = 32;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const char = source[i]!;
    if (/\s/.test(char)) {
      i += 1;
      continue;
    }
    const offset = i;
    if (/[0-9.]/.test(char)) {
      const match = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(source.slice(i));
      if (!match) throw new ExpressionError(`unexpected "${char}"`, offset);
      tokens.push({ type: 'number', text: match[0], offset });
      i += match[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(char)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i))!;
      tokens.push({ type: 'identifier', text: match[0], offset });
      i += match[0].length;
      continue;
    }
    if (char === "'") {
      let value = '';
      i += 1;
      for (;;) {
        if (i >= source.length) throw new ExpressionError('unterminated string literal', offset);
        if (source[i] === "'") {
          if (source[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        value += source[i];
        i += 1;
      }
      tokens.push({ type: 'string', value, offset });
      continue;
    }
    const symbol = symbols.find((candidate) => source.startsWith(candidate, i));
    if (!symbol) throw new ExpressionError(`unexpected "${char}"${char === '"' ? ' (string literals use single quotes)' : ''}`, offset);
    tokens.push({ type: 'symbol', text: symbol, offset });
    i += symbol.length;
  }
  tokens.push({ type: 'end', offset: source.length });
  return tokens;
}

/** Parses an expression; throws `ExpressionError` with the offset of the problem. */
export function parseExpression(source: string): Expression {
  if (source.length > maxLength) throw new ExpressionError(`expression is longer than ${maxLength} characters`, 0);
  const tokens = tokenize(source);
  let position = 0;
  let depth = 0;
  const peek = (): Token => tokens[position]!;
  const next = (): Token => tokens[position++]!;
  const isSymbol = (token: Token, ...texts: string[]) => token.type === 'symbol' && texts.includes(token.text);
  const isKeyword = (token: Token, word: string) => token.type === 'identifier' && token.text.toLowerCase() === word;
  const expect = (text: string) => {
    const token = next();
    if (!isSymbol(token, text)) throw new ExpressionError(`expected "${text}"${describe(token)}`, token.offset);
  };
  const nested = <T>(parse: () => T): T => {
    depth += 1;
    if (depth > maxDepth) throw new ExpressionError(`expression is nested more than ${maxDepth} levels deep`, peek().offset);
    try {
      return parse();
    } finally {
      depth -= 1;
    }
  };

  const binaryLevel = (operand: () => Expression, operators: Readonly<Record<string, BinaryOperator>>, keywords: Readonly<Record<string, BinaryOperator>> = {}) => (): Expression => {
    let left = operand();
    for (;;) {
      const token = peek();
      const operator =
        token.type === 'symbol' ? operators[token.text] : token.type === 'identifier' ? keywords[token.text.toLowerCase()] : undefined;
      if (!operator) return left;
      next();
      left = { kind: 'binary', operator, left, right: operand() };
    }
  };

  const primary = (): Expression =>
    nested(() => {
      const token = next();
      if (token.type === 'number') {
        const value = Number(token.text);
        if (!Number.isFinite(value)) throw new ExpressionError(`number ${token.text} is out of range`, token.offset);
        return { kind: 'number', value, integer: /^\d+$/.test(token.text) && Number.isSafeInteger(value) };
      }
      if (token.type === 'string') return { kind: 'string', value: token.value };
      if (isSymbol(token, '(')) {
        const inner = or();
        expect(')');
        return inner;
      }
      if (isSymbol(token, '-')) return { kind: 'unary', operator: '-', operand: primary() };
      if (isSymbol(token, '!') || isKeyword(token, 'not')) return { kind: 'unary', operator: 'not', operand: comparison() };
      if (token.type === 'identifier') {
        const lower = token.text.toLowerCase();
        if (lower === 'true' || lower === 'false') return { kind: 'bool', value: lower === 'true' };
        if (lower === 'null') return { kind: 'null' };
        if (isSymbol(peek(), '(')) {
          const spec = functions[lower];
          if (!spec) throw new ExpressionError(`unknown function "${token.text}" (allowed: ${expressionFunctions.join(', ')})`, token.offset);
          next();
          const args: Expression[] = [];
          if (!isSymbol(peek(), ')')) {
            for (;;) {
              args.push(or());
              if (!isSymbol(peek(), ',')) break;
              next();
            }
          }
          expect(')');
          const [min, max] = spec.arity;
          if (args.length < min || args.length > max) {
            const wanted = min === max ? `${min}` : `${min} to ${max}`;
            throw new ExpressionError(`${lower}() takes ${wanted} argument(s), got ${args.length}`, token.offset);
          }
          return { kind: 'call', name: lower, args };
        }
        return { kind: 'column', name: token.text };
      }
      throw new ExpressionError(`expected a value${describe(token)}`, token.offset);
    });

  const multiplicative = binaryLevel(primary, { '*': '*', '/': '/', '%': '%' });
  const additive = binaryLevel(multiplicative, { '+': '+', '-': '-' });
  const comparison = binaryLevel(additive, { '=': '=', '==': '=', '!=': '!=', '<>': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' });
  const and = binaryLevel(comparison, { '&&': 'and' }, { and: 'and' });
  const or = binaryLevel(and, { '||': 'or' }, { or: 'or' });

  const expression = or();
  const rest = peek();
  if (rest.type !== 'end') throw new ExpressionError(`unexpected ${describe(rest).replace(/^, found /, '')} after the end of the expression`, rest.offset);
  return expression;
}

function describe(token: Token): string {
  switch (token.type) {
    case 'end':
      return ', found the end of the expression';
    case 'string':
      return `, found '${token.value}'`;
    case 'number':
    case 'identifier':
    case 'symbol':
      return `, found "${token.text}"`;
    default: {
      const unreachable: never = token;
      return String(unreachable);
    }
  }
}

/** The source columns an expression reads, in order of first use. */
export function columnsOf(expression: Expression): string[] {
  const found = new Set<string>();
  const walk = (node: Expression): void => {
    switch (node.kind) {
      case 'column':
        found.add(node.name);
        return;
      case 'unary':
        return walk(node.operand);
      case 'binary':
        walk(node.left);
        return walk(node.right);
      case 'call':
        return node.args.forEach(walk);
      case 'number':
      case 'string':
      case 'bool':
      case 'null':
        return;
      default: {
        const unreachable: never = node;
        throw new Error(`unknown node ${JSON.stringify(unreachable)}`);
      }
    }
  };
  walk(expression);
  return [...found];
}

/** The type an expression evidently has, or `undefined` when it depends on column types. */
export function inferType(expression: Expression): ValueType | undefined {
  switch (expression.kind) {
    case 'number':
      return expression.integer ? 'int64' : 'double';
    case 'string':
      return 'string';
    case 'bool':
      return 'bool';
    case 'null':
    case 'column':
      return undefined;
    case 'unary':
      return expression.operator === 'not' ? 'bool' : inferType(expression.operand);
    case 'binary':
      switch (expression.operator) {
        case '=':
        case '!=':
        case '<':
        case '<=':
        case '>':
        case '>=':
        case 'and':
        case 'or':
          return 'bool';
        case '/':
          return 'double';
        case '+':
        case '-':
        case '*':
        case '%': {
          const left = inferType(expression.left);
          const right = inferType(expression.right);
          if (left === 'double' || right === 'double') return 'double';
          return left === 'int64' && right === 'int64' ? 'int64' : undefined;
        }
        default:
          return undefined;
      }
    case 'call': {
      const spec = functions[expression.name]!;
      if (spec.returns === 'arg') return inferType(expression.args[0]!);
      if (spec.returns === 'unknown') return expression.name === 'if' ? (inferType(expression.args[1]!) ?? inferType(expression.args[2]!)) : undefined;
      return spec.returns;
    }
    default: {
      const unreachable: never = expression;
      throw new Error(`unknown node ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Back-quotes a column name that `parseExpression` accepted (letters, digits, `_`). */
export function quoteColumn(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a plain column name: ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

/** A ClickHouse string literal. */
export function sqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * ClickHouse SQL of an expression. `column` maps a column name to the SQL that reads it (by default
 * the back-quoted name), so callers can qualify columns or substitute casts.
 */
export function compileExpression(expression: Expression, column: (name: string) => string = quoteColumn): string {
  switch (expression.kind) {
    case 'number':
      return expression.integer ? String(expression.value) : `toFloat64(${String(expression.value)})`;
    case 'string':
      return sqlString(expression.value);
    case 'bool':
      return expression.value ? 'true' : 'false';
    case 'null':
      return 'NULL';
    case 'column':
      return column(expression.name);
    case 'unary':
      return expression.operator === '-' ? `(-${compileExpression(expression.operand, column)})` : `(NOT ${compileExpression(expression.operand, column)})`;
    case 'binary': {
      const operator = expression.operator === 'and' ? 'AND' : expression.operator === 'or' ? 'OR' : expression.operator;
      return `(${compileExpression(expression.left, column)} ${operator} ${compileExpression(expression.right, column)})`;
    }
    case 'call':
      return `${functions[expression.name]!.sql}(${expression.args.map((arg) => compileExpression(arg, column)).join(', ')})`;
    default: {
      const unreachable: never = expression;
      throw new Error(`unknown node ${JSON.stringify(unreachable)}`);
    }
  }
}
