import { configError } from '../errors';

/**
 * Kamal's .kamal/secrets format (dotenv): `KEY=value`, `export KEY=value`, `#` comments (whole
 * line, or after a space in an unquoted value), single quotes (literal), double quotes (escapes
 * \n \t \" \\ \$, may span lines, expanded), unquoted values (trimmed, expanded). Expansion:
 * `${VAR}` and `$VAR` (from the environment, else earlier keys, else empty) and `$(command)`.
 * Parsing only splits the text; nothing is evaluated here.
 */
export type ValuePart = { literal: string } | { variable: string } | { command: string };

export interface SecretEntry {
  key: string;
  line: number;
  parts: ValuePart[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseSecrets(text: string, file: string): SecretEntry[] {
  const entries: SecretEntry[] = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const trimmed = lines[i].trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const match = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/s.exec(trimmed);
    if (!match) throw configError(`line ${lineNo}: expected KEY=value`, { file, description: `Got: ${trimmed.split('=')[0].slice(0, 40)}... (values are not shown)` });
    const [, key, rest] = match;
    if (!KEY.test(key)) throw configError(`line ${lineNo}: "${key}" is not a valid variable name`, { file, key, description: 'Names are letters, digits and _, not starting with a digit.' });
    let value = rest;
    const quote = value[0];
    if (quote === '"' || quote === "'") {
      // A quoted value may continue over the next lines until its closing quote.
      while (!hasClosingQuote(value, quote) && i + 1 < lines.length) value += '\n' + lines[++i];
      if (!hasClosingQuote(value, quote)) throw configError(`line ${lineNo}: the ${quote === '"' ? 'double' : 'single'} quote is never closed`, { file, key });
      const end = closingQuoteIndex(value, quote);
      const after = value.slice(end + 1).trim();
      if (after && !after.startsWith('#')) throw configError(`line ${lineNo}: unexpected text after the closing quote`, { file, key });
      const inner = value.slice(1, end);
      entries.push({ key, line: lineNo, parts: quote === "'" ? [{ literal: inner }] : expandable(unescape(inner), file, key, lineNo) });
    } else {
      const unquoted = value.replace(/\s+#.*$/, '').trim();
      entries.push({ key, line: lineNo, parts: expandable(unquoted, file, key, lineNo) });
    }
  }
  return entries;
}

function closingQuoteIndex(value: string, quote: string): number {
  for (let i = 1; i < value.length; i++) {
    if (quote === '"' && value[i] === '\\') i++;
    else if (value[i] === quote) return i;
  }
  return -1;
}

function hasClosingQuote(value: string, quote: string): boolean {
  return closingQuoteIndex(value, quote) > 0;
}

// \$ survives as a marker so the expander treats it as a literal dollar.
const LITERAL_DOLLAR = '\u0000';

function unescape(inner: string): string {
  return inner.replace(/\\(.)/gs, (_, c: string) => ({ n: '\n', t: '\t', r: '\r', $: LITERAL_DOLLAR })[c] ?? c);
}

function expandable(value: string, file: string, key: string, line: number): ValuePart[] {
  const parts: ValuePart[] = [];
  let literal = '';
  let i = 0;
  const flush = () => {
    if (literal) parts.push({ literal: literal.split(LITERAL_DOLLAR).join('$') });
    literal = '';
  };
  while (i < value.length) {
    const rest = value.slice(i);
    if (rest.startsWith('$(')) {
      const end = matchingParen(rest);
      if (end < 0) throw configError(`line ${line}: $( is never closed`, { file, key });
      flush();
      parts.push({ command: rest.slice(2, end) });
      i += end + 1;
      continue;
    }
    const variable = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}|^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(rest);
    if (variable) {
      flush();
      parts.push({ variable: variable[1] ?? variable[2] });
      i += variable[0].length;
      continue;
    }
    if (rest.startsWith('${')) throw configError(`line ${line}: malformed \${...} reference`, { file, key });
    literal += value[i++];
  }
  flush();
  return parts;
}

function matchingParen(text: string): number {
  let depth = 0;
  for (let i = 1; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  return -1;
}
