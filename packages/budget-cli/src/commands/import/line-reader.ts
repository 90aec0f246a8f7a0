import { closeSync, openSync, readSync } from 'node:fs';
import { setImmediate } from 'node:timers/promises';

/** One line of a log file and where it sits, in bytes. */
export interface FileLine {
  /** The line's text; empty for an {@link FileLine.unmarked} line, which is not decoded. */
  text: string;
  /** Byte offset of the line's first byte. */
  offset: number;
  /** Byte offset just after the line's newline: where the next read resumes. */
  end: number;
  /** Set when the line lacks the reader's `mark` and is a whole JSON object (see {@link readLines}). */
  unmarked?: true;
}

/** How {@link readLines} reads. */
export interface ReadOptions {
  /** Called with the number of bytes of each read, for a progress bar. */
  onBytes?: (n: number) => void;
  /**
   * Text every line the caller can use contains. A line without it that reads as a JSON object (`{` to
   * `}`) is yielded {@link FileLine.unmarked} and not decoded; one that does not is yielded whole, so
   * the caller can still tell it is malformed.
   */
  mark?: string;
}

const NL = 0x0a;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const isSpace = (b: number | undefined): boolean => b === 0x20 || b === 0x09 || b === 0x0d;

/** Whether `buf[from, to)` starts with `{` and ends with `}`, whitespace aside. */
function objectShaped(buf: Buffer, from: number, to: number): boolean {
  let a = from;
  let b = to - 1;
  while (a <= b && isSpace(buf[a])) a++;
  while (b >= a && isSpace(buf[b])) b--;
  return a < b && buf[a] === OPEN && buf[b] === CLOSE;
}

function completeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

// Bytes read per call: enough that a call per chunk costs nothing next to parsing what it read.
const CHUNK = 256 * 1024;

/**
 * Reads the lines of `path` from byte `start` up to `size` without loading the file, as one array per
 * chunk read. A last line without a newline is yielded only when it is complete JSON; otherwise the
 * writer is still writing it, and the next import resumes before it.
 *
 * The reads are synchronous, into one buffer reused for the file: an import reads hundreds of thousands of lines
 * and does nothing else meanwhile but wait for batches it sent, which a 256 KiB read from the page
 * cache delays by microseconds. A read stream's promise per line and its asynchronous open, read and
 * close calls cost a tenth of an import's CPU. Each chunk is handed over after one turn of the event
 * loop: without it the loop only turned when a batch was awaited, V8's incremental-marking tasks
 * waited with it, and an import's peak RSS rose from ~165 to 206–260 MB. The file is closed when the
 * caller stops early too.
 *
 * With a `mark`, the lines without it are found by searching each chunk's bytes for the mark, and are
 * never decoded: a third of a Claude Code transcript's bytes are prompts and tool output, which cost
 * as much to decode and parse as the usage lines and can never be one.
 */
export async function* readLines(
  path: string,
  start: number,
  size: number,
  options: ReadOptions = {},
): AsyncGenerator<FileLine[]> {
  if (size <= start) return;
  const { onBytes, mark } = options;
  const needle = mark === undefined ? undefined : Buffer.from(mark, 'utf8');
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(CHUNK);
    let carry: Buffer = Buffer.alloc(0);
    let carryOffset = start;
    let position = start;
    while (position < size) {
      const n = readSync(fd, chunk, 0, Math.min(CHUNK, size - position), position);
      // The file shrank under us: what was read is all there is.
      if (n === 0) break;
      position += n;
      onBytes?.(n);
      const buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      const lines: FileLine[] = [];
      let from = 0;
      // Where the mark next occurs at or after `from`; the mark holds no newline, so an occurrence
      // that starts before a line's newline lies wholly inside that line.
      let marked = needle ? buf.indexOf(needle) : -1;
      for (let i = buf.indexOf(NL, from); i !== -1; i = buf.indexOf(NL, from)) {
        if (needle && marked !== -1 && marked < from) marked = buf.indexOf(needle, from);
        if (needle && (marked === -1 || marked > i) && objectShaped(buf, from, i)) {
          lines.push({ text: '', offset: carryOffset + from, end: carryOffset + i + 1, unmarked: true });
        } else {
          lines.push({
            text: buf.toString('utf8', from, i),
            offset: carryOffset + from,
            end: carryOffset + i + 1,
          });
        }
        from = i + 1;
      }
      carryOffset += from;
      // The rest is copied out: the chunk buffer is overwritten by the next read.
      carry = Buffer.from(buf.subarray(from));
      if (lines.length > 0) {
        await setImmediate();
        yield lines;
      }
    }
    if (carry.length > 0) {
      const text = carry.toString('utf8');
      if (completeJson(text)) yield [{ text, offset: carryOffset, end: carryOffset + carry.length }];
    }
  } finally {
    closeSync(fd);
  }
}
