/**
 * Why a controller module failed to load, as one line that points at the cause: `file:line:column`
 * for a syntax error (in the module or in anything it imports), and what to do with a TypeScript file.
 *
 * Node's ESM loader rejects a module that does not parse with a bare `SyntaxError: Unexpected
 * token` whose stack holds only loader frames; the location exists only in the source excerpt Node
 * prints for an uncaught error. So for such an error the import is repeated in a child process and
 * that excerpt is read. The child evaluates nothing: a module graph is parsed and linked as a whole
 * before any of it runs, and it is exactly the parse or link that fails.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const TYPESCRIPT = /\.[cm]?tsx?$/;
const CHILD_TIMEOUT_MS = 10_000;
// The library's own files (`dist/src`): an async stack also shows the CLI's import call.
const LIBRARY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..') + path.sep;

/** A position in a source file, 1-based. */
export interface SourceLocation {
  /** Absolute path (or URL when not a file). */
  file: string;
  /** Line, from 1. */
  line: number;
  /** Column, from 1. */
  column: number;
}

function toPath(f: string): string {
  return f.startsWith('file://') ? fileURLToPath(f) : f;
}

/**
 * The location in Node's source excerpt of an error (`<file>:<line>`, the source line, a caret
 * line), as Node prints an uncaught error and puts at the head of a CommonJS SyntaxError's stack.
 */
export function excerptLocation(text: string): SourceLocation | undefined {
  const lines = text.split('\n');
  for (let i = 0; i + 2 < lines.length; i++) {
    const at = /^(file:\/\/\S+|\/.*|[A-Za-z]:\\.*):(\d+)$/.exec(lines[i]!);
    const caret = /^([ \t]*)\^/.exec(lines[i + 2]!);
    if (at && caret) return { file: toPath(at[1]!), line: Number(at[2]), column: caret[1]!.length + 1 };
  }
  return undefined;
}

/** The first stack frame outside Node's internals and this library (where the module's own code threw). */
export function firstUserFrame(stack: string): SourceLocation | undefined {
  for (const l of stack.split('\n')) {
    const m = /^\s+at (?:.*?\()?((?:file:\/\/|\/|[A-Za-z]:\\)[^()]*?):(\d+):(\d+)\)?$/.exec(l);
    if (m && !toPath(m[1]!).startsWith(LIBRARY)) return { file: toPath(m[1]!), line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

/** Imports `file` in a child node (same flags, so loaders apply) and reads the excerpt of its failure. */
function childLocation(file: string): Promise<SourceLocation | undefined> {
  const args = [...process.execArgv, '--input-type=module', '-e', 'await import(process.argv[1])', pathToFileURL(file).href];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: CHILD_TIMEOUT_MS, maxBuffer: 1 << 20 }, (_err, _stdout, stderr) => resolve(excerptLocation(String(stderr))));
  });
}

function format(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}

/** The one-line reason why importing controller module `file` threw `e`. */
export async function moduleLoadFailure(file: string, e: unknown): Promise<string> {
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: unknown }).code;
  if (TYPESCRIPT.test(file) && (code === 'ERR_UNKNOWN_FILE_EXTENSION' || err instanceof SyntaxError)) {
    return `controller module ${file} is TypeScript, which node does not run: compile it first (tsc) and pass the .js file, or run kcp-mc under a loader (node --import tsx node_modules/.bin/kcp-mc run ...)`;
  }
  const stack = typeof err.stack === 'string' ? err.stack : '';
  const prefix = `controller module ${file} failed to load`;
  if (err instanceof SyntaxError || err.name === 'SyntaxError') {
    const loc = excerptLocation(stack) ?? firstUserFrame(stack) ?? (await childLocation(file));
    return loc ? `${prefix}: ${format(loc)}: SyntaxError: ${err.message}` : `${prefix}: SyntaxError: ${err.message}`;
  }
  const frame = firstUserFrame(stack);
  return frame ? `${prefix}: ${err.message} (at ${format(frame)})` : `${prefix}: ${err.message}`;
}
