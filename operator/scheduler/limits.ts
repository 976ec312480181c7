/**
 * Bounds on everything the scheduler client reads. Whatever answers on a scheduler's ports is not trusted: a broken
 * or hostile peer must cost the operator a bounded amount of memory and time, and what it says may reach a condition
 * or an Event only as short, bounded text.
 */
import { SchedulerProtocolError } from './errors';

/** One Dask comm message (prelude + frames) larger than this is refused from its header, before the bytes arrive. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Frames per message. */
export const MAX_FRAMES = 4096;
/**
 * Decoded msgpack values (scalars, strings, list items, map keys and values) in one message. A reply to the ops this
 * client sends (identity with per-worker metrics is the largest) stays far below this for thousands of workers.
 */
export const MAX_DECODED_ELEMENTS = 500_000;
/** Items of one msgpack list, or entries of one map. */
export const MAX_CONTAINER_LENGTH = 100_000;
/** Nesting of lists and maps. */
export const MAX_DEPTH = 64;
/** One msgpack string, in UTF-8 bytes. */
export const MAX_STRING_BYTES = 8 * 1024 * 1024;
/** One msgpack bin or ext value. */
export const MAX_BINARY_BYTES = 16 * 1024 * 1024;
/** An HTTP response body; reading stops (and the connection is closed) once it is exceeded. */
export const MAX_HTTP_BODY_BYTES = 4 * 1024 * 1024;
/** Characters of the scheduler's own exception text kept in an error message. */
export const MAX_REMOTE_TEXT_CHARS = 512;

/**
 * Walks one msgpack value without building it and throws SchedulerProtocolError when it is malformed or exceeds the
 * limits above. Containers are checked from their headers, so a list announcing millions of items is refused at
 * once. Cost: one pass over the bytes, no allocation per element.
 */
export function checkMsgpackBounds(bytes: Uint8Array, maxElements = MAX_DECODED_ELEMENTS): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;
  let pos = 0;
  let elements = 0;
  /** Items still to read at each open container level. */
  const open: number[] = [];
  const fail = (what: string, malformed = false): never => {
    const why = malformed ? 'is not valid msgpack' : "exceeds this client's limits";
    throw new SchedulerProtocolError(`reply ${why}: ${what} (at byte ${pos} of ${len})`);
  };
  const need = (n: number): void => {
    if (pos + n > len) fail('truncated value', true);
  };
  const uint = (n: 1 | 2 | 4): number => {
    need(n);
    const v = n === 1 ? view.getUint8(pos) : n === 2 ? view.getUint16(pos) : view.getUint32(pos);
    pos += n;
    return v;
  };
  const skip = (n: number, limit: number, kind: string): void => {
    if (n > limit) fail(`${kind} of ${n} bytes (limit ${limit})`);
    need(n);
    pos += n;
  };
  /** Opens a list or map of `items` values; returns true when it is empty (so complete at once). */
  const container = (items: number, entries: number, kind: string): boolean => {
    if (entries > MAX_CONTAINER_LENGTH) fail(`${kind} of ${entries} entries (limit ${MAX_CONTAINER_LENGTH})`);
    // Every item takes at least one byte, and all of them count against the element budget.
    if (items > len - pos) fail(`${kind} announces ${entries} entries but only ${len - pos} bytes follow`, true);
    if (elements + items > maxElements) fail(`more than ${maxElements} values`);
    if (items === 0) return true;
    if (open.length >= MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    open.push(items);
    return false;
  };
  for (;;) {
    need(1);
    const b = bytes[pos++]!;
    if (++elements > maxElements) fail(`more than ${maxElements} values`);
    let done = true;
    if (b <= 0x7f || b >= 0xe0) {
      // positive or negative fixint
    } else if (b <= 0x8f) done = container(2 * (b & 0x0f), b & 0x0f, 'map');
    else if (b <= 0x9f) done = container(b & 0x0f, b & 0x0f, 'list');
    else if (b <= 0xbf) skip(b & 0x1f, MAX_STRING_BYTES, 'string');
    else {
      switch (b) {
        case 0xc0: case 0xc2: case 0xc3: break;
        case 0xc4: skip(uint(1), MAX_BINARY_BYTES, 'bin'); break;
        case 0xc5: skip(uint(2), MAX_BINARY_BYTES, 'bin'); break;
        case 0xc6: skip(uint(4), MAX_BINARY_BYTES, 'bin'); break;
        case 0xc7: skip(1 + uint(1), MAX_BINARY_BYTES, 'ext'); break;
        case 0xc8: skip(1 + uint(2), MAX_BINARY_BYTES, 'ext'); break;
        case 0xc9: skip(1 + uint(4), MAX_BINARY_BYTES, 'ext'); break;
        case 0xca: skip(4, 4, 'float'); break;
        case 0xcb: skip(8, 8, 'float'); break;
        case 0xcc: case 0xd0: skip(1, 1, 'int'); break;
        case 0xcd: case 0xd1: skip(2, 2, 'int'); break;
        case 0xce: case 0xd2: skip(4, 4, 'int'); break;
        case 0xcf: case 0xd3: skip(8, 8, 'int'); break;
        case 0xd4: skip(2, 2, 'ext'); break;
        case 0xd5: skip(3, 3, 'ext'); break;
        case 0xd6: skip(5, 5, 'ext'); break;
        case 0xd7: skip(9, 9, 'ext'); break;
        case 0xd8: skip(17, 17, 'ext'); break;
        case 0xd9: skip(uint(1), MAX_STRING_BYTES, 'string'); break;
        case 0xda: skip(uint(2), MAX_STRING_BYTES, 'string'); break;
        case 0xdb: skip(uint(4), MAX_STRING_BYTES, 'string'); break;
        case 0xdc: { const n = uint(2); done = container(n, n, 'list'); break; }
        case 0xdd: { const n = uint(4); done = container(n, n, 'list'); break; }
        case 0xde: { const n = uint(2); done = container(2 * n, n, 'map'); break; }
        case 0xdf: { const n = uint(4); done = container(2 * n, n, 'map'); break; }
        default: fail(`byte 0x${b.toString(16)} starts no msgpack value`, true);
      }
    }
    if (!done) continue;
    // A finished value is one item of its container; a container whose last item finished is finished itself.
    while (open.length > 0) {
      const left = open[open.length - 1]! - 1;
      if (left > 0) {
        open[open.length - 1] = left;
        break;
      }
      open.pop();
    }
    if (open.length === 0) break;
  }
  if (pos !== len) fail(`${len - pos} bytes after the value`, true);
}
