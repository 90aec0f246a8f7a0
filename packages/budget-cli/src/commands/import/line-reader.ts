import { createReadStream } from 'node:fs';

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

/**
 * Streams the lines of `path` from byte `start` up to `size` without loading the file. A last line
 * without a newline is yielded only when it is complete JSON; otherwise the writer is still writing
 * it, and the next import resumes before it.
 */
export async function* readLines(
  path: string,
  start: number,
  size: number,
  onBytes?: (n: number) => void,
): AsyncGenerator<FileLine> {
  if (size <= start) return;
  let carry: Buffer = Buffer.alloc(0);
  let carryOffset = start;
  const stream = createReadStream(path, { start, end: size - 1, highWaterMark: 256 * 1024 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    onBytes?.(chunk.length);
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    let from = 0;
    for (let i = buf.indexOf(NL, from); i !== -1; i = buf.indexOf(NL, from)) {
      const offset = carryOffset + from;
      yield { text: buf.toString('utf8', from, i), offset, end: carryOffset + i + 1 };
      from = i + 1;
    }
    carryOffset += from;
    carry = Buffer.from(buf.subarray(from));
  }
  if (carry.length > 0) {
    const text = carry.toString('utf8');
    if (completeJson(text)) yield { text, offset: carryOffset, end: carryOffset + carry.length };
  }
}
