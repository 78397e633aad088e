/** Line splitting of chunked watch bodies, and decoding of watch lines. */
import { expect } from 'chai';
import { LineSplitter } from '../../src/informer/lines.js';
import { decodeWatchLine } from '../../src/informer/decode.js';

function splitAll(chunks: Buffer[], opts: ConstructorParameters<typeof LineSplitter>[1] = {}): string[] {
  const out: string[] = [];
  const s = new LineSplitter((l) => out.push(l), opts);
  for (const c of chunks) s.push(c);
  s.end();
  return out;
}

// Cuts `buf` at every offset in `cuts` (ascending).
function cut(buf: Buffer, cuts: number[]): Buffer[] {
  const parts: Buffer[] = [];
  let prev = 0;
  for (const c of cuts) {
    parts.push(buf.subarray(prev, c));
    prev = c;
  }
  parts.push(buf.subarray(prev));
  return parts;
}

describe('informer: LineSplitter', () => {
  const lines = [
    '{"type":"ADDED","object":{"metadata":{"name":"a"}}}',
    '{"type":"MODIFIED","object":{"metadata":{"name":"ünïcödé-名前-🚀"},"data":{"k":"€uro 💶"}}}',
    '{"type":"DELETED","object":{"metadata":{"name":"c"}}}',
  ];
  const body = Buffer.from(lines.join('\n') + '\n', 'utf8');

  it('yields the same lines whatever the chunk boundaries, including inside multi-byte UTF-8 sequences', () => {
    // Every single cut position, and every pair of cut positions.
    for (let i = 0; i <= body.length; i++) expect(splitAll(cut(body, [i]))).to.deep.equal(lines, `cut at ${i}`);
    for (let i = 0; i <= body.length; i += 3) for (let j = i; j <= body.length; j += 5) expect(splitAll(cut(body, [i, j]))).to.deep.equal(lines);
  });

  it('handles one byte per chunk', () => {
    const chunks = [...body].map((b) => Buffer.from([b]));
    expect(splitAll(chunks)).to.deep.equal(lines);
  });

  it('handles many lines in one chunk, CRLF endings, blank lines and a last line without a newline', () => {
    const out = splitAll([Buffer.from('a\r\n\nb\n\r\nc')]);
    expect(out).to.deep.equal(['a', 'b', 'c']);
  });

  it('drops an over-long line up to its newline, reports it, and goes on', () => {
    const reported: number[] = [];
    const long = 'x'.repeat(100);
    const out = splitAll(cut(Buffer.from(`ok1\n${long}\nok2\n`), [10, 50, 90]), { maxLineBytes: 20, onOversize: (n) => reported.push(n) });
    expect(out).to.deep.equal(['ok1', 'ok2']);
    expect(reported).to.have.length(1);
    // within one chunk too
    const out2 = splitAll([Buffer.from(`${long}\nok\n`)], { maxLineBytes: 20, onOversize: (n) => reported.push(n) });
    expect(out2).to.deep.equal(['ok']);
  });

  it('keeps nothing pending after a complete line', () => {
    const s = new LineSplitter(() => undefined);
    s.push(Buffer.from('abc'));
    expect(s.pendingBytes).to.equal(3);
    s.push(Buffer.from('\n'));
    expect(s.pendingBytes).to.equal(0);
  });
});

describe('informer: decodeWatchLine', () => {
  it('decodes the five event types', () => {
    for (const type of ['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK']) {
      const ev = decodeWatchLine(JSON.stringify({ type, object: { metadata: { resourceVersion: '5' } } }));
      expect(ev.type).to.equal(type);
    }
    const err = decodeWatchLine(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } }));
    expect(err.type).to.equal('ERROR');
  });

  it('reports malformed lines instead of throwing', () => {
    const bad = ['{"type":"ADDED","object":', 'null', '42', '{"type":"NOPE","object":{}}', '{"type":"ADDED"}', '{"type":"ADDED","object":{}}', '{"type":"ADDED","object":[1]}'];
    for (const line of bad) {
      const ev = decodeWatchLine(line);
      expect(ev.type, line).to.equal('MALFORMED');
    }
    const long = decodeWatchLine('x'.repeat(1000));
    expect(long.type === 'MALFORMED' && long.excerpt.length).to.be.lessThan(210);
  });
});
