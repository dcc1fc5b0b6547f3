/**
 * char-rnn's batch layout for truncated backprop through time.
 *
 * The training ids are cut into `batchSize` contiguous streams of n = ⌊(len−1)/batchSize⌋ ids;
 * stream b is ids[b·n … (b+1)·n) and its targets are the same range shifted by one. The streams
 * are read `seqLength` at a time, so row b of chunk i+1 continues row b of chunk i and the hidden
 * state carried from one chunk to the next is the state of the same stream.
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

  constructor(ids: Ids, batchSize: number, seqLength: number, what = 'training data') {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new UserError(`batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(seqLength) || seqLength < 1) throw new UserError(`seqLength must be a positive integer, got ${seqLength}`);
    const need = batchSize * seqLength + 1;
    if (ids.length < need) {
      throw new UserError(
        `${what} has ${ids.length} bytes, too small for one batch of batchSize × seqLength + 1 = ${batchSize} × ${seqLength} + 1 = ${need} bytes: use a bigger corpus or smaller batchSize/seqLength`,
      );
    }
    this.ids = ids;
    this.batchSize = batchSize;
    this.seqLength = seqLength;
    this.streamLength = Math.floor((ids.length - 1) / batchSize);
    this.numChunks = Math.floor(this.streamLength / seqLength);
  }

  /** Bytes consumed per chunk (batchSize × seqLength). */
  get chunkBytes(): number {
    return this.batchSize * this.seqLength;
  }

  /** Chunk i (0 ≤ i < numChunks). */
  chunk(i: number): Chunk {
    if (!Number.isInteger(i) || i < 0 || i >= this.numChunks) throw new RangeError(`chunk ${i} out of range [0, ${this.numChunks})`);
    const { batchSize: B, seqLength: T, streamLength: n } = this;
    const x = new Int32Array(B * T);
    const y = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const start = b * n + i * T;
      x.set(this.ids.subarray(start, start + T), b * T);
      y.set(this.ids.subarray(start + 1, start + T + 1), b * T);
    }
    return { x, y, batchSize: B, seqLength: T };
  }
}
