import { encode } from '@msgpack/msgpack';
import { FrameReader, decodeMessage, describe as shape, remoteText } from '../../../operator/scheduler/comm';
import { checkMsgpackBounds, MAX_DEPTH, SchedulerProtocolError } from '../../../operator/scheduler';
import { truncateUtf8 } from '../../../operator/runtime/text';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

describe('checkMsgpackBounds', () => {
  test('accepts what a scheduler sends (maps, lists, strings, bins, floats, ints, nil, bools, ext)', () => {
    const reply = {
      type: 'Scheduler',
      workers: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`tcp://10.0.0.${i}:1`, { name: `w-${i}`, nthreads: 2, memory_limit: 2 ** 33, last_seen: 1.5, bin: new Uint8Array(3), nested: [[], {}, [null, true, false, -1, -200, 70000, -70000, 2 ** 40]] }])),
    };
    expect(() => checkMsgpackBounds(encode(reply))).not.toThrow();
    expect(() => checkMsgpackBounds(encode(new Date(0)))).not.toThrow(); // timestamp ext
    expect(() => checkMsgpackBounds(encode('x'.repeat(70_000)))).not.toThrow(); // str32
  });

  test.each([
    ['a list announcing more items than bytes follow', bytes(0xdc, 0x00, 0x05, 0x01), /announces 5 entries but only 1 bytes follow/],
    ['a map32 announcing 2^32-1 entries', bytes(0xdf, 0xff, 0xff, 0xff, 0xff), /map of 4294967295 entries/],
    ['trailing bytes', bytes(0x01, 0x02), /1 bytes after the value/],
    ['the never-used byte 0xc1', bytes(0xc1), /0xc1 starts no msgpack value/],
    ['a truncated string', bytes(0xd9, 0x05, 0x61), /truncated value/],
    ['nesting deeper than the limit', Uint8Array.from([...Array(MAX_DEPTH + 1).fill(0x91), 0x01]), /nesting deeper than 64/],
  ])('refuses %s', (_what, b, message) => {
    expect(() => checkMsgpackBounds(b)).toThrow(SchedulerProtocolError);
    expect(() => checkMsgpackBounds(b)).toThrow(message);
  });

  test('counts every value against the budget (many small containers, not one long list)', () => {
    const many = encode(Array.from({ length: 50_000 }, () => [1, 2]));
    expect(() => checkMsgpackBounds(many, 100_000)).toThrow(/more than 100000 values/);
    expect(() => checkMsgpackBounds(many, 200_000)).not.toThrow();
  });

  test('decodeMessage applies the bounds before decoding', () => {
    const frame = Buffer.from(bytes(0xdd, 0x00, 0x80, 0x00, 0x00)); // list32 of 8 M items, none present
    expect(() => decodeMessage([frame])).toThrow(/list of 8388608 entries \(limit 100000\)/);
  });
});

describe('FrameReader', () => {
  const message = (payload: Buffer): Buffer => {
    const out = Buffer.alloc(24);
    out.writeBigUInt64LE(BigInt(16 + payload.length), 0);
    out.writeBigUInt64LE(1n, 8);
    out.writeBigUInt64LE(BigInt(payload.length), 16);
    return Buffer.concat([out, payload]);
  };

  test('a 32 MiB message in 16 KiB chunks is assembled in linear time (one join, not one per chunk)', () => {
    const msg = message(Buffer.alloc(32 * 1024 * 1024, 7));
    const reader = new FrameReader();
    const started = Date.now();
    let frames: Buffer[] | undefined;
    for (let off = 0; off < msg.length; off += 16 * 1024) {
      reader.push(msg.subarray(off, off + 16 * 1024));
      frames = reader.next() ?? frames;
    }
    expect(Date.now() - started).toBeLessThan(2000); // a join per chunk copies ~32 GiB here
    expect(frames?.[0]?.length).toBe(32 * 1024 * 1024);
    expect(reader.pending).toBe(0);
  });

  test('hands out messages one at a time and keeps what follows', () => {
    const a = message(Buffer.from(encode(1)));
    const b = message(Buffer.from(encode('two')));
    const reader = new FrameReader();
    const both = Buffer.concat([a, b]);
    reader.push(both.subarray(0, 5));
    expect(reader.next()).toBeUndefined();
    reader.push(both.subarray(5));
    expect(decodeMessage(reader.next()!)).toBe(1);
    expect(reader.pending).toBe(b.length);
    expect(decodeMessage(reader.next()!)).toBe('two');
    expect(reader.next()).toBeUndefined();
  });
});

describe('text that reaches conditions and Events', () => {
  test('describe gives the shape of a value, never its content', () => {
    expect([shape('s3cret'), shape([1, 'x']), shape({ a: 'b' }), shape(null), shape(new Uint8Array(4)), shape(7)]).toEqual([
      'a string of 6 character(s)', 'a list of 2 item(s)', 'a map with 1 key(s)', 'nil', '4 byte(s) of binary data', 'a number',
    ]);
  });

  test('remoteText flattens control characters and cuts long exception text', () => {
    expect(remoteText('KeyError:\n  "x"\t\u0007')).toBe('KeyError: "x"');
    const long = remoteText(`E${'y'.repeat(10_000)}`);
    expect(long.length).toBeLessThan(600);
    expect(long).toMatch(/… \(10001 characters in all\)$/);
  });

  test('truncateUtf8 cuts on a character boundary within the byte budget', () => {
    expect(truncateUtf8('short', 1024)).toBe('short');
    const cut = truncateUtf8('é'.repeat(1000), 1024);
    expect(Buffer.byteLength(cut, 'utf8')).toBeLessThanOrEqual(1024);
    expect(cut.endsWith('…')).toBe(true);
    expect(cut).not.toContain('\uFFFD');
  });
});
