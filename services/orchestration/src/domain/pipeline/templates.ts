// `${{ … }}` references inside step inputs, commands, trigger params and pipeline outputs. A text
// that is exactly one reference takes the referenced value with its type (a number stays a
// number); a text with references among other characters becomes a text.
import { evaluate, ExpressionError, parseExpression, type Expression, type JsonValue, type Scope } from '../expressions/expression';

const referencePattern = /\$\{\{([\s\S]*?)\}\}/g;

export type TemplatePart = { readonly text: string } | { readonly expression: Expression; readonly source: string };

export type ParsedTemplate =
  | { readonly kind: 'plain' }
  | { readonly kind: 'whole'; readonly expression: Expression; readonly source: string }
  | { readonly kind: 'interpolated'; readonly parts: readonly TemplatePart[] };

/** Parses one text; throws `ExpressionError` for a malformed reference. */
export function parseTemplate(text: string): ParsedTemplate {
  if (!text.includes('${{')) return { kind: 'plain' };
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const match of text.matchAll(referencePattern)) {
    if (match.index! > last) parts.push({ text: text.slice(last, match.index) });
    const source = match[1]!.trim();
    parts.push({ expression: parseExpression(source), source });
    last = match.index! + match[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  if (parts.some((part) => 'text' in part && part.text.includes('${{'))) throw new ExpressionError('unterminated "${{" reference (missing "}}")');
  const only = parts[0];
  if (parts.length === 1 && only !== undefined && 'expression' in only) return { kind: 'whole', expression: only.expression, source: only.source };
  return { kind: 'interpolated', parts };
}

/** Every expression inside a value (texts, lists, objects), with the path below the value. */
export function templateExpressions(value: JsonValue | undefined, path: string): { readonly path: string; readonly expression: Expression; readonly template: ParsedTemplate }[] {
  if (typeof value === 'string') {
    const template = parseTemplate(value);
    if (template.kind === 'plain') return [];
    if (template.kind === 'whole') return [{ path, expression: template.expression, template }];
    return template.parts.flatMap((part) => ('expression' in part ? [{ path, expression: part.expression, template }] : []));
  }
  if (Array.isArray(value)) return (value as readonly JsonValue[]).flatMap((item, index) => templateExpressions(item, `${path}[${index}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value as { readonly [key: string]: JsonValue }).flatMap(([key, item]) => templateExpressions(item, `${path}.${key}`));
  }
  return [];
}

/** Replaces every reference in a value by what it resolves to. Throws `ExpressionError`. */
export function resolveTemplates(value: JsonValue, scope: Scope): JsonValue {
  if (typeof value === 'string') {
    const template = parseTemplate(value);
    switch (template.kind) {
      case 'plain':
        return value;
      case 'whole':
        return evaluate(template.expression, scope);
      case 'interpolated':
        return template.parts
          .map((part) => {
            if ('text' in part) return part.text;
            const resolved = evaluate(part.expression, scope);
            return typeof resolved === 'string' ? resolved : JSON.stringify(resolved);
          })
          .join('');
      default: {
        const unreachable: never = template;
        throw new ExpressionError(`unknown template ${JSON.stringify(unreachable)}`);
      }
    }
  }
  if (Array.isArray(value)) return (value as readonly JsonValue[]).map((item) => resolveTemplates(item, scope));
  if (value !== null && typeof value === 'object') {
    const resolved: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value as { readonly [key: string]: JsonValue })) resolved[key] = resolveTemplates(item, scope);
    return resolved;
  }
  return value;
}
