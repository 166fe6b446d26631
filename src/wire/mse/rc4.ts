/**
 * RC4 for MSE/PE: neither WebCrypto nor Deno's `node:crypto` has it. Two
 * implementations of the same cipher: plain TypeScript, and a tiny
 * hand-written WebAssembly loop (embedded below as bytes, compiled once).
 * {@linkcode createRc4} gives the faster one (see `bench/rc4.ts`).
 */

/**
 * An RC4 keystream applied in place. MSE discards the first 1024 bytes of
 * each keystream (RC4-drop1024), which {@linkcode createRc4} does.
 *
 * @example
 * ```ts
 * import { createRc4 } from "@bittern/bittern";
 *
 * const cipher = createRc4(new TextEncoder().encode("Key"), 0);
 * const data = new TextEncoder().encode("Plaintext");
 * cipher.process(data); // now the ciphertext BBF316E8D940AF0AD3
 * ```
 */
export interface Rc4Cipher {
  /**
   * Encrypts (or decrypts: the same) `data` in place, continuing the keystream.
   *
   * @param data The bytes to transform.
   */
  process(data: Uint8Array): void;
}

/** The key schedule: the initial permutation for `key`. */
function schedule(key: Uint8Array): Uint8Array {
  const state = new Uint8Array(256);
  for (let i = 0; i < 256; i++) state[i] = i;
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + state[i] + key[i % key.length]) & 255;
    const t = state[i];
    state[i] = state[j];
    state[j] = t;
  }
  return state;
}

/**
 * RC4 in TypeScript.
 *
 * @example
 * ```ts
 * import { Rc4 } from "@bittern/bittern";
 *
 * const cipher = new Rc4(new TextEncoder().encode("Key"));
 * cipher.process(new Uint8Array(16));
 * ```
 */
export class Rc4 implements Rc4Cipher {
  readonly #state: Uint8Array;
  #i = 0;
  #j = 0;

  /**
   * Runs the key schedule.
   *
   * @param key 1 to 256 bytes.
   */
  constructor(key: Uint8Array) {
    this.#state = schedule(key);
  }

  /**
   * Transforms `data` in place.
   *
   * @param data The bytes.
   */
  process(data: Uint8Array): void {
    const state = this.#state;
    let i = this.#i;
    let j = this.#j;
    for (let n = 0; n < data.length; n++) {
      i = (i + 1) & 255;
      const si = state[i];
      j = (j + si) & 255;
      const sj = state[j];
      state[i] = sj;
      state[j] = si;
      data[n] ^= state[(si + sj) & 255];
    }
    this.#i = i;
    this.#j = j;
  }
}

/**
 * The WebAssembly module: `run(n)` applies the keystream whose permutation
 * is at memory 0..255 (i at 256, j at 257) to the n bytes at 1024.
 */
const WASM_BYTES = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00,
  0x01,
  0x05,
  0x01,
  0x60,
  0x01,
  0x7f,
  0x00,
  0x03,
  0x02,
  0x01,
  0x00,
  0x05,
  0x03,
  0x01,
  0x00,
  0x01,
  0x07,
  0x0b,
  0x02,
  0x01,
  0x6d,
  0x02,
  0x00,
  0x03,
  0x72,
  0x75,
  0x6e,
  0x00,
  0x00,
  0x0a,
  0x8e,
  0x01,
  0x01,
  0x8b,
  0x01,
  0x01,
  0x06,
  0x7f,
  0x41,
  0x80,
  0x02,
  0x2d,
  0x00,
  0x00,
  0x21,
  0x01,
  0x41,
  0x81,
  0x02,
  0x2d,
  0x00,
  0x00,
  0x21,
  0x02,
  0x41,
  0x80,
  0x08,
  0x21,
  0x03,
  0x20,
  0x03,
  0x20,
  0x00,
  0x6a,
  0x21,
  0x04,
  0x02,
  0x40,
  0x03,
  0x40,
  0x20,
  0x03,
  0x20,
  0x04,
  0x4f,
  0x0d,
  0x01,
  0x20,
  0x01,
  0x41,
  0x01,
  0x6a,
  0x41,
  0xff,
  0x01,
  0x71,
  0x22,
  0x01,
  0x2d,
  0x00,
  0x00,
  0x21,
  0x05,
  0x20,
  0x02,
  0x20,
  0x05,
  0x6a,
  0x41,
  0xff,
  0x01,
  0x71,
  0x22,
  0x02,
  0x2d,
  0x00,
  0x00,
  0x21,
  0x06,
  0x20,
  0x01,
  0x20,
  0x06,
  0x3a,
  0x00,
  0x00,
  0x20,
  0x02,
  0x20,
  0x05,
  0x3a,
  0x00,
  0x00,
  0x20,
  0x03,
  0x20,
  0x03,
  0x2d,
  0x00,
  0x00,
  0x20,
  0x05,
  0x20,
  0x06,
  0x6a,
  0x41,
  0xff,
  0x01,
  0x71,
  0x2d,
  0x00,
  0x00,
  0x73,
  0x3a,
  0x00,
  0x00,
  0x20,
  0x03,
  0x41,
  0x01,
  0x6a,
  0x21,
  0x03,
  0x0c,
  0x00,
  0x0b,
  0x0b,
  0x41,
  0x80,
  0x02,
  0x20,
  0x01,
  0x3a,
  0x00,
  0x00,
  0x41,
  0x81,
  0x02,
  0x20,
  0x02,
  0x3a,
  0x00,
  0x00,
  0x0b,
]);
/** Where the data goes in the module's memory. */
const WASM_DATA = 1024;
const WASM_PAGE = 65536;

/** One instance serves every cipher (each keeps its own 258 bytes of state): one memory in all. */
let wasm: { run: (length: number) => void; memory: WebAssembly.Memory } | undefined;

function wasmInstance(): { run: (length: number) => void; memory: WebAssembly.Memory } {
  if (!wasm) {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(WASM_BYTES));
    wasm = {
      run: instance.exports.run as (length: number) => void,
      memory: instance.exports.m as WebAssembly.Memory,
    };
  }
  return wasm;
}

/** Largest slice processed per call: the memory grows to this much at most. */
const WASM_MAX_SLICE = 256 * 1024;

/**
 * RC4 in a small hand-written WebAssembly module (one shared instance; each
 * cipher keeps its own state and copies it in and out per call).
 *
 * @example
 * ```ts
 * import { WasmRc4 } from "@bittern/bittern";
 *
 * const cipher = new WasmRc4(new TextEncoder().encode("Key"));
 * cipher.process(new Uint8Array(16));
 * ```
 */
export class WasmRc4 implements Rc4Cipher {
  /** The permutation followed by i and j. */
  readonly #state = new Uint8Array(258);

  /**
   * Runs the key schedule.
   *
   * @param key 1 to 256 bytes.
   */
  constructor(key: Uint8Array) {
    this.#state.set(schedule(key));
  }

  /**
   * Transforms `data` in place.
   *
   * @param data The bytes.
   */
  process(data: Uint8Array): void {
    const { run, memory } = wasmInstance();
    const slice = Math.min(data.length, WASM_MAX_SLICE);
    if (memory.buffer.byteLength < WASM_DATA + slice) {
      memory.grow(Math.ceil((WASM_DATA + slice - memory.buffer.byteLength) / WASM_PAGE));
    }
    const bytes = new Uint8Array(memory.buffer);
    bytes.set(this.#state);
    for (let offset = 0; offset < data.length; offset += slice) {
      const part = data.subarray(offset, offset + slice);
      bytes.set(part, WASM_DATA);
      run(part.length);
      part.set(bytes.subarray(WASM_DATA, WASM_DATA + part.length));
    }
    this.#state.set(bytes.subarray(0, 258));
  }
}

/**
 * An RC4 cipher for `key` with the first `drop` keystream bytes discarded
 * (MSE: 1024), using the faster implementation (WebAssembly).
 *
 * @example
 * ```ts
 * import { createRc4 } from "@bittern/bittern";
 *
 * const cipher = createRc4(new Uint8Array(20), 1024);
 * cipher.process(new Uint8Array(8));
 * ```
 *
 * @param key The key (MSE: a 20-byte SHA-1).
 * @param drop Keystream bytes to discard first. Default 1024.
 * @returns The cipher.
 */
export function createRc4(key: Uint8Array, drop = 1024): Rc4Cipher {
  const cipher = new WasmRc4(key);
  if (drop > 0) cipher.process(new Uint8Array(drop));
  return cipher;
}
