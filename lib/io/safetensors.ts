/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
 * { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__": {…} }, then raw
 * little-endian tensor bytes. Used for our checkpoints and to read PyTorch's model.safetensors.
 * Reading returns float32 whatever the stored float type (F32, F64, F16, BF16).
 */
import { UserError } from '../util/errors';

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

const DTYPE_BYTES: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2 };

/** Stored float types that encodeSafetensors writes. */
export type WriteDtype = 'F32' | 'F16';

/**
 * Serialise float32 tensors (sorted by name) to a safetensors buffer, stored as `dtype` (F16:
 * each value rounded to the nearest half-precision one, ties to even; beyond ±65504 ±Infinity).
 */
export function encodeSafetensors(tensors: Map<string, NamedArray>, metadata: Record<string, string> = {}, dtype: WriteDtype = 'F32'): Buffer {
  const width = DTYPE_BYTES[dtype];
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const names = [...tensors.keys()].sort();
  for (const name of names) {
    const t = tensors.get(name)!;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`safetensors: ${name} has ${t.data.length} values for shape [${t.shape}]`);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + width * n] };
    offset += width * n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // align the data to 8 bytes
  const head = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + head.length + offset);
  out.writeBigUInt64LE(BigInt(head.length), 0);
  head.copy(out, 8);
  let p = 8 + head.length;
  for (const name of names) {
    const d = tensors.get(name)!.data;
    if (dtype === 'F32') Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(out, p);
    else for (let i = 0; i < d.length; i++) out.writeUInt16LE(f32ToF16(d[i]), p + 2 * i);
    p += width * d.length;
  }
  return out;
}

const f32Bits = new Float32Array(1);
const u32Bits = new Uint32Array(f32Bits.buffer);

/** The IEEE 754 half-precision bits nearest to x (round to nearest, ties to even; too large: ±Infinity). */
export function f32ToF16(x: number): number {
  f32Bits[0] = x;
  const b = u32Bits[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Infinity, NaN
  const e = exp - 127 + 15; // the half's biased exponent
  if (e >= 31) return sign | 0x7c00;
  let half: number;
  let shift: number;
  if (e <= 0) {
    // a subnormal half (or zero): the implicit 1 becomes explicit and 14 − e bits go
    if (e < -10) return sign;
    mant |= 0x800000;
    shift = 14 - e;
    half = mant >>> shift;
  } else {
    shift = 13;
    half = (e << 10) | (mant >>> 13);
  }
  const rest = mant & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && half & 1)) half++; // a carry moves into the exponent, up to Infinity
  return sign | half;
}

/** The value of half-precision bits h. */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * Math.pow(2, -14) * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * Math.pow(2, e - 15) * (1 + f / 1024);
}

/**
 * Parse a safetensors buffer. Any inconsistency (short file, bad JSON, offsets outside the
 * data, a size that does not match the shape) is a UserError naming `what`.
 */
export function decodeSafetensors(buf: Uint8Array, what = 'safetensors file'): { tensors: Map<string, NamedArray>; metadata: Record<string, string> } {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const bad = (why: string): never => {
    throw new UserError(`${what} is not a valid safetensors file: ${why}`);
  };
  if (b.length < 8) bad(`only ${b.length} bytes`);
  const headerLen = Number(b.readBigUInt64LE(0));
  if (headerLen > b.length - 8 || headerLen > 100_000_000) bad(`header length ${headerLen} exceeds the file (${b.length} bytes; truncated?)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(b.subarray(8, 8 + headerLen).toString('utf8'));
  } catch {
    return bad('header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) bad('header is not an object');
  const dataStart = 8 + headerLen;
  const dataLen = b.length - dataStart;
  const tensors = new Map<string, NamedArray>();
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (info ?? {}) as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets: off } = (info ?? {}) as { dtype?: string; shape?: number[]; data_offsets?: number[] };
    if (!dtype || !Array.isArray(shape) || !Array.isArray(off) || off.length !== 2) bad(`entry "${name}" lacks dtype/shape/data_offsets`);
    const width = DTYPE_BYTES[dtype!];
    if (!width) bad(`tensor "${name}" has dtype ${dtype}; only F32, F64, F16, BF16 are supported`);
    const n = shape!.reduce((a, c) => a * c, 1);
    const [begin, end] = off!;
    if (!(begin >= 0 && end >= begin && end <= dataLen)) bad(`tensor "${name}" lies outside the data (${begin}..${end} of ${dataLen} bytes; truncated?)`);
    if (end - begin !== n * width) bad(`tensor "${name}" has ${end - begin} bytes for shape [${shape}] of ${dtype}`);
    const raw = b.subarray(dataStart + begin, dataStart + end);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (dtype === 'F32') data[i] = raw.readFloatLE(4 * i);
      else if (dtype === 'F64') data[i] = raw.readDoubleLE(8 * i);
      else if (dtype === 'F16') data[i] = f16ToF32(raw.readUInt16LE(2 * i));
      else {
        const tmp = Buffer.alloc(4);
        tmp.writeUInt16LE(raw.readUInt16LE(2 * i), 2);
        data[i] = tmp.readFloatLE(0);
      }
    }
    tensors.set(name, { shape: shape!, data });
  }
  return { tensors, metadata };
}
