/**
 * A minimal client for Dask's TCP comm protocol: enough to call scheduler RPC handlers
 * (`identity`, `workers_to_close`, `retire_workers`, `adaptive_target`, `check_idle`).
 *
 * Wire format, as documented for distributed's TCP comm and observed against a real scheduler:
 *
 *   message  := u64 nosplitLength, prelude, frame[0] ... frame[n-1]
 *   prelude  := u64 n, u64 length[0] ... u64 length[n-1]
 *
 * All integers are unsigned 64-bit little-endian. `nosplitLength` counts the prelude plus the leading
 * frames a reader may take in one read; any later frames follow back to back, so the whole message is
 * always 8 + 8 * (n + 1) + sum(length). Frame 0 is the msgpack-encoded message. Out-of-band values
 * (pickled exceptions, serialized data) live in later frames and are referenced from frame 0 as
 * `{"__Serialized__": i}` / `{"__Pickled__": i}`; this client never needs their content and keeps
 * the reference only.
 *
 * A connection starts with each side sending one handshake message (a map with `compression`,
 * `python` and `pickle-protocol`); after that the client sends `{op, reply: true, ...kwargs}` and
 * reads one reply per request. Errors raised by handlers come back as
 * `{status: "uncaught-error", exception_text, traceback_text, ...}`; unknown ops come back as nil.
 */
import * as net from 'node:net';
import { Decoder, encode } from '@msgpack/msgpack';
import { SchedulerProtocolError, SchedulerRemoteError, SchedulerTimeout, SchedulerUnreachable } from './errors';
import {
  MAX_BINARY_BYTES, MAX_CONTAINER_LENGTH, MAX_FRAMES, MAX_MESSAGE_BYTES, MAX_REMOTE_TEXT_CHARS, MAX_STRING_BYTES, checkMsgpackBounds,
} from './limits';

/** A decoded Dask message value (msgpack data model). */
export type DaskValue = null | boolean | number | string | Uint8Array | DaskValue[] | { [key: string]: DaskValue };

/** Placeholder for an out-of-band (pickled/serialized) value that this client does not decode. */
export interface OutOfBand {
  readonly outOfBand: 'Serialized' | 'Pickled';
  readonly frame: number;
}

const U64 = 8;

/** What we tell the scheduler about ourselves in the handshake. No compression, newest pickle protocol we claim. */
const HANDSHAKE = { compression: null, python: [3, 11, 0], 'pickle-protocol': 5 } as const;

export interface DaskCommOptions {
  /** Per-step deadline: connect, handshake, and each request/response. */
  readonly timeoutMs: number;
}

/** Parses `tcp://host:port` (or `host:port`) into host and port. IPv6 hosts may be bracketed. */
export function parseTcpAddress(address: string): { host: string; port: number } {
  const rest = address.startsWith('tcp://') ? address.slice('tcp://'.length) : address;
  const m = /^(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(rest);
  if (!m) {
    throw new SchedulerProtocolError(`not a Dask TCP address: '${address}' (expected tcp://host:port)`, address);
  }
  const host = m[1]!.replace(/^\[|\]$/g, '');
  const port = Number(m[2]);
  if (port < 1 || port > 65535) {
    throw new SchedulerProtocolError(`port out of range in Dask TCP address '${address}'`, address);
  }
  return { host, port };
}

/** Encodes one Dask message (a single msgpack frame). */
export function encodeMessage(msg: unknown): Buffer {
  const frame = Buffer.from(encode(msg));
  const out = Buffer.alloc(U64 * 3 + frame.length);
  out.writeBigUInt64LE(BigInt(U64 * 2 + frame.length), 0); // prelude + the one frame
  out.writeBigUInt64LE(1n, U64); // number of frames
  out.writeBigUInt64LE(BigInt(frame.length), U64 * 2);
  frame.copy(out, U64 * 3);
  return out;
}

/**
 * Incremental decoder: feed bytes, get complete messages (their frames). Throws SchedulerProtocolError as soon as the
 * bytes cannot be a Dask message, or when more is buffered than one message of the announced size can hold.
 *
 * Chunks are kept as they arrive and joined once per message (not once per chunk, which is quadratic in the
 * message size).
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Total bytes of the message at the head of the buffer, once its header has been read. */
  private expected: { end: number; lengths: number[]; preludeLen: number } | undefined;

  /** Bytes received and not yet handed out as a message. */
  public get pending(): number {
    return this.buffered;
  }

  public push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** Returns the frames of the next complete message, or undefined when more bytes are needed. */
  public next(): Buffer[] | undefined {
    if (!this.expected) {
      if (this.buffered < U64 * 2) return undefined;
      const head = this.peek(U64 * 2);
      const nosplit = readU64(head, 0, 'message length');
      const nframes = readU64(head, U64, 'frame count');
      if (nframes < 1 || nframes > MAX_FRAMES) {
        throw new SchedulerProtocolError(`implausible frame count ${nframes} in message header (not a Dask comm?)`);
      }
      const preludeLen = U64 * (nframes + 1);
      if (nosplit < preludeLen || nosplit > MAX_MESSAGE_BYTES) {
        throw new SchedulerProtocolError(`implausible message length ${nosplit} for ${nframes} frame(s) (not a Dask comm?)`);
      }
      if (this.buffered < U64 + preludeLen) return undefined;
      const prelude = this.peek(U64 + preludeLen);
      const lengths: number[] = [];
      let total = 0;
      for (let i = 0; i < nframes; i++) {
        const len = readU64(prelude, U64 * (2 + i), 'frame length');
        lengths.push(len);
        total += len;
      }
      if (total > MAX_MESSAGE_BYTES || nosplit > preludeLen + total) {
        throw new SchedulerProtocolError(`frame lengths (${total} bytes) do not match the message header (${nosplit} bytes)`);
      }
      this.expected = { end: U64 + preludeLen + total, lengths, preludeLen };
    }
    const { end, lengths, preludeLen } = this.expected;
    if (this.buffered < end) return undefined;
    const b = this.peek(end);
    const frames: Buffer[] = [];
    let off = U64 + preludeLen;
    for (const len of lengths) {
      frames.push(b.subarray(off, off + len));
      off += len;
    }
    this.expected = undefined;
    // Keep only what follows this message.
    const first = this.chunks[0]!;
    this.chunks[0] = first.subarray(end);
    if (this.chunks[0].length === 0) this.chunks.shift();
    this.buffered -= end;
    return frames;
  }

  /** The first `n` buffered bytes as one Buffer, joining only the chunks that hold them (at most once per size). */
  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    let have = 0;
    let i = 0;
    while (have < n) have += this.chunks[i++]!.length;
    const joined = Buffer.concat(this.chunks.slice(0, i), have);
    this.chunks.splice(0, i, joined);
    return joined;
  }
}

function readU64(b: Buffer, off: number, what: string): number {
  const v = b.readBigUInt64LE(off);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new SchedulerProtocolError(`implausible ${what} ${v} in message header (not a Dask comm?)`);
  }
  return Number(v);
}

/**
 * Dask keys can be tuples (task keys appear in worker metrics), which JavaScript objects cannot use as
 * keys: such keys become a fixed placeholder (this client never reads them). The length limits repeat the
 * ones checkMsgpackBounds enforces, as a second line of defence.
 */
const decoder = new Decoder({
  mapKeyConverter: (key: unknown): string | number => (typeof key === 'string' || typeof key === 'number' ? key : `<${describe(key)}>`),
  maxStrLength: MAX_STRING_BYTES,
  maxBinLength: MAX_BINARY_BYTES,
  maxExtLength: MAX_BINARY_BYTES,
  maxArrayLength: MAX_CONTAINER_LENGTH,
  maxMapLength: MAX_CONTAINER_LENGTH,
});

/**
 * Decodes frame 0 of a message, replacing out-of-band references by OutOfBand placeholders. The bytes are checked
 * against the limits first (element count, lengths, depth), so a small message cannot expand into a huge graph.
 */
export function decodeMessage(frames: Buffer[]): DaskValue {
  let value: unknown;
  try {
    checkMsgpackBounds(frames[0]!);
    value = decoder.decode(frames[0]!);
  } catch (err) {
    if (err instanceof SchedulerProtocolError) throw err;
    throw new SchedulerProtocolError(`reply is not valid msgpack: ${(err as Error).message}`, undefined, { cause: err });
  }
  return replaceOutOfBand(value) as DaskValue;
}

function replaceOutOfBand(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(replaceOutOfBand);
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const o = v as Record<string, unknown>;
    for (const kind of ['Serialized', 'Pickled'] as const) {
      const ref = o[`__${kind}__`];
      if (typeof ref === 'number' && Object.keys(o).length === 1) return { outOfBand: kind, frame: ref } satisfies OutOfBand;
    }
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(o)) out[k] = replaceOutOfBand(val);
    return out;
  }
  return v;
}

/** One TCP connection to a Dask server, after the handshake. Requests are sent one at a time. */
export class DaskComm {
  private readonly reader = new FrameReader();
  private waiter: { resolve: (m: DaskValue) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;
  private busy = false;

  private constructor(
    private readonly socket: net.Socket,
    public readonly address: string,
    private readonly timeoutMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new SchedulerUnreachable(`connection to ${address} failed: ${err.message}`, address, { cause: err })));
    socket.on('close', () => this.fail(new SchedulerUnreachable(`connection to ${address} was closed by the peer before it answered`, address)));
  }

  /** Connects and performs the handshake, within `timeoutMs` for each step. */
  public static async connect(address: string, opts: DaskCommOptions): Promise<DaskComm> {
    const { host, port } = parseTcpAddress(address);
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host, port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new SchedulerUnreachable(`could not connect to ${address} within ${opts.timeoutMs} ms`, address, { beforeRequest: true }));
      }, opts.timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        s.destroy();
        reject(new SchedulerUnreachable(`could not connect to ${address}: ${err.message}`, address, { cause: err, beforeRequest: true }));
      });
    });
    socket.setNoDelay(true);
    const comm = new DaskComm(socket, address, opts.timeoutMs);
    try {
      socket.write(encodeMessage(HANDSHAKE));
      const hello = await comm.receive('handshake');
      if (hello === null || typeof hello !== 'object' || Array.isArray(hello) || hello instanceof Uint8Array || !('pickle-protocol' in hello)) {
        throw new SchedulerProtocolError(`${address} did not send a Dask handshake (got ${describe(hello)})`, address);
      }
    } catch (err) {
      comm.destroy();
      throw err;
    }
    return comm;
  }

  /** Why the connection can no longer be used (a typed scheduler client error), once it cannot. */
  public get error(): Error | undefined {
    return this.failure;
  }

  /** True while the connection can take another request. */
  public get usable(): boolean {
    return this.failure === undefined && !this.busy && !this.socket.destroyed;
  }

  /**
   * Calls a handler on the server and returns its reply. A reply with `status: "uncaught-error"` becomes
   * a SchedulerRemoteError. `timeoutMs` overrides the connection's default for this call.
   */
  public async call(op: string, args: Record<string, unknown> = {}, timeoutMs?: number): Promise<DaskValue> {
    if (this.busy) throw new Error(`DaskComm to ${this.address} is already handling a request`);
    if (this.failure) throw this.failure;
    this.busy = true;
    try {
      this.socket.write(encodeMessage({ ...args, op, reply: true }));
      const reply = await this.receive(`'${op}'`, timeoutMs);
      if (reply !== null && typeof reply === 'object' && !Array.isArray(reply) && !(reply instanceof Uint8Array)) {
        const status = reply['status'];
        if (status === 'uncaught-error' || status === 'error') {
          const text = typeof reply['exception_text'] === 'string' ? remoteText(reply['exception_text']) : 'unknown error';
          throw new SchedulerRemoteError(`scheduler at ${this.address} failed to handle '${op}': ${text}`, this.address);
        }
      }
      return reply;
    } finally {
      this.busy = false;
    }
  }

  /** Closes the connection politely (tells the server, then ends the socket). */
  public close(): void {
    if (!this.socket.destroyed && this.failure === undefined) {
      this.socket.end(encodeMessage({ op: 'close', reply: false }));
      this.socket.setTimeout(this.timeoutMs, () => this.socket.destroy());
    }
    this.failure ??= new SchedulerUnreachable(`connection to ${this.address} was closed by the client`, this.address);
  }

  /** Drops the connection at once. */
  public destroy(): void {
    this.failure ??= new SchedulerUnreachable(`connection to ${this.address} was closed by the client`, this.address);
    this.socket.destroy();
  }

  private receive(what: string, timeoutMs = this.timeoutMs): Promise<DaskValue> {
    return new Promise<DaskValue>((resolve, reject) => {
      if (this.failure) {
        reject(this.failure);
        return;
      }
      const timer = setTimeout(() => {
        this.waiter = undefined;
        const err = new SchedulerTimeout(`${this.address} accepted the connection but sent no ${what} reply within ${timeoutMs} ms`, timeoutMs, this.address);
        this.fail(err); // the stream position is unknown now; never reuse it
        this.socket.destroy();
        reject(err);
      }, timeoutMs);
      this.waiter = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.drain();
    });
  }

  private onData(chunk: Buffer): void {
    if (this.failure) return;
    if (!this.waiter) {
      // A Dask server only answers what it is asked. Bytes nobody asked for (on an idle pooled connection, or after a
      // complete reply) mean the peer is not a Dask comm or is out of step: never buffer them, close at once.
      this.unsolicited(chunk.length);
      return;
    }
    try {
      this.reader.push(chunk);
      this.drain();
    } catch (err) {
      this.fail(err instanceof Error ? withTarget(err, this.address) : new Error(String(err)));
      this.socket.destroy();
    }
  }

  private unsolicited(bytes: number): void {
    this.fail(new SchedulerProtocolError(`${this.address} sent ${bytes} byte(s) nobody asked for; closed the connection (not a Dask comm?)`, this.address));
    this.socket.destroy();
  }

  private drain(): void {
    if (!this.waiter) return;
    let frames: Buffer[] | undefined;
    try {
      frames = this.reader.next();
    } catch (err) {
      this.fail(err instanceof Error ? withTarget(err, this.address) : new Error(String(err)));
      this.socket.destroy();
      return;
    }
    if (!frames) return;
    const w = this.waiter;
    this.waiter = undefined;
    const extra = this.reader.pending;
    try {
      w.resolve(decodeMessage(frames));
    } catch (err) {
      const e = err instanceof Error ? withTarget(err, this.address) : new Error(String(err));
      this.fail(e);
      this.socket.destroy();
      w.reject(e);
      return;
    }
    // The reply is good, but whatever came after it was not asked for: this connection is not reused.
    if (extra > 0) this.unsolicited(extra);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(this.failure);
  }
}

function withTarget(err: Error, address: string): Error {
  if (err instanceof SchedulerProtocolError && err.target === undefined) {
    return new SchedulerProtocolError(`${address}: ${err.message}`, address, { cause: err });
  }
  return err;
}

/**
 * The shape of a decoded value for error messages: its type and size, never its content, so nothing a peer sends can
 * be echoed into a condition, an Event or a log line through this client's errors.
 */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'boolean') return 'a boolean';
  if (typeof v === 'number' || typeof v === 'bigint') return 'a number';
  if (typeof v === 'string') return `a string of ${v.length} character(s)`;
  if (v instanceof Uint8Array) return `${v.length} byte(s) of binary data`;
  if (Array.isArray(v)) return `a list of ${v.length} item(s)`;
  if (typeof v === 'object') return `a map with ${Object.keys(v).length} key(s)`;
  return typeof v;
}

/**
 * The scheduler's own exception text, made safe for a one-line message: control characters become spaces and it is
 * cut to MAX_REMOTE_TEXT_CHARS characters.
 */
export function remoteText(text: string): string {
  const flat = text.slice(0, MAX_REMOTE_TEXT_CHARS * 2).replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > MAX_REMOTE_TEXT_CHARS ? `${flat.slice(0, MAX_REMOTE_TEXT_CHARS)}… (${text.length} characters in all)` : flat;
}
