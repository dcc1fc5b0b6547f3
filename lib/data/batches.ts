/**
 * char-rnn's batch layout for truncated backprop through time.
 *
 * The training ids are cut into `batchSize` contiguous streams of n = ⌊(len−1)/batchSize⌋ ids;
 * stream b is ids[b·n … (b+1)·n) and its targets are the same range shifted by one. The streams
 * are read `seqLength` at a time, so row b of chunk i+1 continues row b of chunk i and the hidden
 * state carried from one chunk to the next is the state of the same stream.
 *
 * With `shift`, an epoch may read every stream from an offset in [0, seqLength) (`chunk(i, offset)`),
 * so that a byte does not sit at the same place of its window every epoch (AWD-LSTM varies its BPTT
 * length for the same reason); room for the offset costs one chunk an epoch.
 */
import { UserError } from '../util/errors';
import type { Ids } from './vocab';

export interface Chunk {
  /** Input ids, row-major [batchSize, seqLength]. */
  x: Int32Array;
  /** Target ids (the next byte of each input), [batchSize, seqLength]. */
  y: Int32Array;
  batchSize: number;
  seqLength: number;
}

export class BatchLoader {
  readonly batchSize: number;
  readonly seqLength: number;
  /** Ids per stream. */
  readonly streamLength: number;
  /** Chunks per epoch. */
  readonly numChunks: number;
  private readonly ids: Ids;

  /** Whether chunk() takes an offset (numChunks leaves room for one below seqLength). */
  readonly shift: boolean;

  constructor(ids: Ids, batchSize: number, seqLength: number, what = 'training data', shift = false) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new UserError(`batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(seqLength) || seqLength < 1) throw new UserError(`seqLength must be a positive integer, got ${seqLength}`);
    const need = batchSize * (shift ? 2 * seqLength - 1 : seqLength) + 1;
    if (ids.length < need) {
      const batch = shift ? `batchSize × (2·seqLength − 1) + 1 = ${batchSize} × ${2 * seqLength - 1} + 1` : `batchSize × seqLength + 1 = ${batchSize} × ${seqLength} + 1`;
      throw new UserError(
        `${what} has ${ids.length} bytes, too small for one batch${shift ? ' with shifted windows' : ''} of ${batch} = ${need} bytes: use a bigger corpus or smaller batchSize/seqLength`,
      );
    }
    this.ids = ids;
    this.batchSize = batchSize;
    this.seqLength = seqLength;
    this.shift = shift;
    this.streamLength = Math.floor((ids.length - 1) / batchSize);
    this.numChunks = Math.floor((this.streamLength - (shift ? seqLength - 1 : 0)) / seqLength);
  }

  /** Bytes consumed per chunk (batchSize × seqLength). */
  get chunkBytes(): number {
    return this.batchSize * this.seqLength;
  }

  /** Chunk i (0 ≤ i < numChunks), its streams read from `offset` (0 unless shift; then < seqLength). */
  chunk(i: number, offset = 0): Chunk {
    if (!Number.isInteger(i) || i < 0 || i >= this.numChunks) throw new RangeError(`chunk ${i} out of range [0, ${this.numChunks})`);
    const maxOffset = this.shift ? this.seqLength - 1 : 0;
    if (!Number.isInteger(offset) || offset < 0 || offset > maxOffset) throw new RangeError(`offset ${offset} out of range [0, ${maxOffset}]`);
    const { batchSize: B, seqLength: T, streamLength: n } = this;
    const x = new Int32Array(B * T);
    const y = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const start = b * n + offset + i * T;
      x.set(this.ids.subarray(start, start + T), b * T);
      y.set(this.ids.subarray(start + 1, start + T + 1), b * T);
    }
    return { x, y, batchSize: B, seqLength: T };
  }

  /**
   * The offset epoch e reads its streams from: 0 without shift and in epoch 0, else e·stride mod
   * seqLength, where the stride (≈ 0.618·seqLength, coprime with it) visits every offset once in
   * seqLength epochs and puts consecutive epochs' windows far apart.
   */
  epochOffset(e: number): number {
    const T = this.seqLength;
    if (!this.shift || T === 1) return 0;
    let stride = Math.max(1, Math.round(0.618 * T));
    while (gcd(stride, T) !== 1) stride++;
    return (e * stride) % T;
  }
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
