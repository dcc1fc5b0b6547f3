/**
 * Byte vocabulary. The model sees bytes, never JS string code units: a text is
 * UTF-8 encoded first, so any file (UTF-8, Latin-1, binary) works.
 *
 * Karpathy's char-rnn builds a compact vocabulary from the bytes actually present,
 * sorted by byte value; `ByteVocab.full()` is the fixed 256-entry alternative.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../util/errors';

export type Bytes = Uint8Array | string;

/**
 * Token ids: one byte each where the vocabulary fits in 256 (every ByteVocab), else 32-bit
 * (e.g. GPT-2 tokens). Everything that takes ids accepts both.
 */
export type Ids = Uint8Array | Int32Array;

/** Bytes as a Uint8Array: strings are UTF-8 encoded. */
export function toBytes(data: Bytes): Uint8Array {
  return typeof data === 'string' ? new Uint8Array(Buffer.from(data, 'utf8')) : data;
}

/** Printable form of a byte for messages: 'a', '\n', 0xe9. */
export function showByte(b: number): string {
  if (b === 10) return "'\\n'";
  if (b === 9) return "'\\t'";
  if (b === 13) return "'\\r'";
  if (b >= 32 && b < 127) return `'${String.fromCharCode(b)}'`;
  return `0x${b.toString(16).padStart(2, '0')}`;
}

export interface VocabJSON {
  /** id → byte value. */
  idToByte: number[];
}

export interface EncodeOptions {
  /** Drop bytes that are not in the vocabulary instead of failing. */
  skipUnknown?: boolean;
}

export class ByteVocab {
  /** id → byte, sorted ascending. */
  readonly idToByte: Uint8Array;
  /** byte → id, or -1 if the byte is not in the vocabulary. */
  private readonly byteToId: Int16Array;

  constructor(idToByte: ArrayLike<number>) {
    if (idToByte.length === 0) throw new UserError('a vocabulary needs at least one byte');
    const bytes = Array.from(idToByte);
    const bad = bytes.find((b) => !Number.isInteger(b) || b < 0 || b > 255);
    if (bad !== undefined) throw new UserError(`invalid vocabulary: ${bad} is not a byte value (0..255)`);
    if (new Set(bytes).size !== bytes.length) throw new UserError('invalid vocabulary: repeated byte values');
    this.idToByte = Uint8Array.from(bytes);
    this.byteToId = new Int16Array(256).fill(-1);
    this.idToByte.forEach((b, id) => (this.byteToId[b] = id));
  }

  /** The sorted set of bytes present in `data` (char-rnn's vocabulary). */
  static fromData(data: Bytes): ByteVocab {
    const bytes = toBytes(data);
    if (bytes.length === 0) throw new UserError('cannot build a vocabulary from empty data');
    const seen = new Uint8Array(256);
    for (let i = 0; i < bytes.length; i++) seen[bytes[i]] = 1;
    const ids: number[] = [];
    for (let b = 0; b < 256; b++) if (seen[b]) ids.push(b);
    return new ByteVocab(ids);
  }

  /** All 256 byte values: id === byte. */
  static full(): ByteVocab {
    return new ByteVocab(Array.from({ length: 256 }, (_, i) => i));
  }

  static fromJSON(json: VocabJSON): ByteVocab {
    if (!json || !Array.isArray(json.idToByte)) throw new UserError('invalid vocabulary: expected {"idToByte": [...]}');
    return new ByteVocab(json.idToByte);
  }

  toJSON(): VocabJSON {
    return { idToByte: Array.from(this.idToByte) };
  }

  get size(): number {
    return this.idToByte.length;
  }

  has(byte: number): boolean {
    return byte >= 0 && byte < 256 && this.byteToId[byte] >= 0;
  }

  idOf(byte: number): number {
    return this.has(byte) ? this.byteToId[byte] : -1;
  }

  /** The bytes of `data` that are not in the vocabulary, each once, in order of first appearance. */
  unknownBytes(data: Bytes): number[] {
    const bytes = toBytes(data);
    const out: number[] = [];
    const seen = new Uint8Array(256);
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (this.byteToId[b] < 0 && !seen[b]) {
        seen[b] = 1;
        out.push(b);
      }
    }
    return out;
  }

  /** Bytes → ids. Unknown bytes are an error listing them, unless `skipUnknown`. */
  encode(data: Bytes, opts: EncodeOptions = {}): Int32Array {
    const bytes = toBytes(data);
    const unknown = this.unknownBytes(bytes);
    if (unknown.length && !opts.skipUnknown) throw unknownError(unknown);
    const out = new Int32Array(bytes.length - (unknown.length ? countUnknown(bytes, this.byteToId) : 0));
    let j = 0;
    for (let i = 0; i < bytes.length; i++) {
      const id = this.byteToId[bytes[i]];
      if (id >= 0) out[j++] = id;
    }
    return out;
  }

  /**
   * Bytes → ids, one byte each (1 byte of memory per byte of text instead of encode()'s 4).
   * `inPlace` overwrites `data` with its ids (no copy: for a corpus loaded only to train on);
   * `onProgress(done, total)` is called every 16 MB. Unknown bytes as in encode().
   */
  encodeBytes(data: Uint8Array, opts: EncodeOptions & { inPlace?: boolean; onProgress?: (done: number, total: number) => void } = {}): Uint8Array {
    const unknown = this.unknownBytes(data);
    if (unknown.length && !opts.skipUnknown) throw unknownError(unknown);
    const n = data.length - (unknown.length ? countUnknown(data, this.byteToId) : 0);
    const out = opts.inPlace ? data : new Uint8Array(n);
    const map = this.byteToId;
    const STEP = 1 << 24;
    let j = 0;
    for (let from = 0; from < data.length; from += STEP) {
      const to = Math.min(data.length, from + STEP);
      for (let i = from; i < to; i++) {
        const id = map[data[i]];
        if (id >= 0) out[j++] = id;
      }
      opts.onProgress?.(to, data.length);
    }
    return opts.inPlace ? out.subarray(0, n) : out;
  }

  /** Ids → bytes. */
  decode(ids: ArrayLike<number>): Buffer {
    const out = Buffer.alloc(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.size) throw new UserError(`id ${id} is outside the vocabulary (size ${this.size})`);
      out[i] = this.idToByte[id];
    }
    return out;
  }

  /** Ids → one-hot rows, [ids.length, size] (1-of-k encoding). */
  oneHot(ids: ArrayLike<number>): tf.Tensor2D {
    return tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from(ids), 'int32'), this.size).toFloat() as tf.Tensor2D);
  }
}

function unknownError(unknown: number[]): UserError {
  const shown = unknown.slice(0, 12).map(showByte).join(', ');
  const more = unknown.length > 12 ? ` and ${unknown.length - 12} more` : '';
  return new UserError(`${unknown.length} byte value(s) not in the model's vocabulary: ${shown}${more} (use skipUnknown / --skip-unknown to drop them)`);
}

function countUnknown(bytes: Uint8Array, byteToId: Int16Array): number {
  let n = 0;
  for (let i = 0; i < bytes.length; i++) if (byteToId[bytes[i]] < 0) n++;
  return n;
}
