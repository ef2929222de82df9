/**
 * The core's English messages, read from its source as gettext's xgettext reads C: every text that
 * reaches a user as an error, a task's title or progress line, a warning, or the reason of a state. A message is its English
 * with each `${…}` (or `+ value +`) a positional placeholder: `No machine named "${ref}"` is
 * `No machine named "{0}"`. The German catalogue (src-main/api/messages/de) is keyed by these; messages.test.ts fails
 * (src-main/api/messages) when one is missing there. Development only (it reads the TypeScript compiler): never bundled.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface Extracted {
  /** The English, placeholders {0}, {1}, … in order of appearance. */
  id: string;
  /** Where it is first met: `src-main/...:line`. */
  at: string;
}

/** A message part: literal text, or a value put in at run time. */
type Piece = { text: string } | { hole: true };

/** A value put in: a hole. */
const HOLE: Piece[][] = [[{ hole: true }]];

/** The texts an expression can give, each as pieces; null: nothing literal in it (a value passed on). */
function alternatives(node: ts.Expression): Piece[][] | null {
  if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node)) return alternatives(node.expression);
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [[{ text: node.text }]];
  if (ts.isTemplateExpression(node)) {
    const pieces: Piece[] = [{ text: node.head.text }];
    for (const span of node.templateSpans) pieces.push({ hole: true }, { text: span.literal.text });
    return [pieces];
  }
  if (ts.isConditionalExpression(node)) {
    const all = [node.whenTrue, node.whenFalse].flatMap((e) => alternatives(e) ?? HOLE);
    return all.some((a) => a.some((p) => 'text' in p && p.text)) ? all : null;
  }
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const left = alternatives(node.left) ?? HOLE;
    const right = alternatives(node.right) ?? HOLE;
    const all = left.flatMap((l) => right.map((r) => [...l, ...r]));
    return all.some((a) => a.some((p) => 'text' in p && p.text)) ? all : null;
  }
  return null;
}

/** Pieces as a message id: holes numbered from 0. */
function messageId(pieces: Piece[]): string {
  let n = 0;
  return pieces.map((p) => ('hole' in p ? `{${n++}}` : p.text)).join('');
}

/** The arguments that are messages, of a call or `new` this is (none if it is no message sink). */
function messageArguments(node: ts.Node): ts.Expression[] {
  if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'VmdeskError') {
    return node.arguments?.[1] ? [node.arguments[1]] : [];
  }
  // { state: 'crashed', reason: `QEMU ${how}` }: why a machine or a host's feature is as it is
  if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && node.name.text === 'reason') return [node.initializer];
  if (!ts.isCallExpression(node)) return [];
  const callee = node.expression;
  const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : '';
  const owner = ts.isPropertyAccessExpression(callee) ? callee.expression.getText() : '';
  // ctx.progress(fraction, text)
  if (name === 'progress' && node.arguments.length >= 2) return [node.arguments[1] as ts.Expression];
  // warnings.push(text), problems.push(text)
  if (name === 'push' && /(^|\.)(warnings|problems)$/.test(owner)) return [...node.arguments];
  // core.tasks.run(title, …)
  if (name === 'run' && /(^|\.)tasks$/.test(owner) && node.arguments[0]) return [node.arguments[0]];
  return [];
}

/** Each message of one source file. */
export function extractFromSource(file: string, source: string): Extracted[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: Extracted[] = [];
  const visit = (node: ts.Node): void => {
    for (const arg of messageArguments(node)) {
      for (const pieces of alternatives(arg) ?? []) {
        const id = messageId(pieces);
        // Only words are translated: "{0}: {1}" is punctuation around values, "bad-token" a code.
        if (!/[A-Za-z]{2}/.test(id.replace(/\{\d+\}/g, '')) || /^[a-z]+(-[a-z]+)+$/.test(id)) continue;
        found.push({ id, at: `${file}:${sf.getLineAndCharacterOfPosition(arg.getStart()).line + 1}` });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** Source files whose messages reach users: the core, the API, the server and the CLI; tests left out. */
function sourceFiles(root: string): string[] {
  return (fs.readdirSync(root, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
    .filter((f) => !/^(integration|i18n|electron|api\/messages)\//.test(f))
    .sort()
    .map((f) => path.join(root, f));
}

/** Every message of src-main, once each (where first met), in the order met. */
export function extractAll(repoRoot: string): Extracted[] {
  const seen = new Map<string, Extracted>();
  for (const file of sourceFiles(path.join(repoRoot, 'src-main'))) {
    const rel = path.relative(repoRoot, file);
    for (const m of extractFromSource(rel, fs.readFileSync(file, 'utf8'))) if (!seen.has(m.id)) seen.set(m.id, m);
  }
  return [...seen.values()];
}
