import { closeSync, openSync, readSync } from 'node:fs';
import { setImmediate } from 'node:timers/promises';

/** One line of a log file and where it sits, in bytes. */
export interface FileLine {
  text: string;
  /** Byte offset of the line's first byte. */
  offset: number;
  /** Byte offset just after the line's newline: where the next read resumes. */
  end: number;
}

const NL = 0x0a;

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
 */
export async function* readLines(
  path: string,
  start: number,
  size: number,
  onBytes?: (n: number) => void,
): AsyncGenerator<FileLine[]> {
  if (size <= start) return;
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
      for (let i = buf.indexOf(NL, from); i !== -1; i = buf.indexOf(NL, from)) {
        lines.push({
          text: buf.toString('utf8', from, i),
          offset: carryOffset + from,
          end: carryOffset + i + 1,
        });
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
