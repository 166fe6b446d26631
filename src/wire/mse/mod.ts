/**
 * MSE/PE (Message Stream Encryption): the Diffie-Hellman handshake, RC4, and
 * the layer that turns a {@linkcode TransportConnection} into an encrypted one.
 *
 * @example
 * ```ts
 * import { createRc4 } from "@bittern/bittern";
 *
 * const cipher = createRc4(new Uint8Array(20));
 * cipher.process(new Uint8Array(8));
 * ```
 *
 * @module
 */
export { acceptIncoming, CryptoMethod, encryptOutgoing, MSE_MAX_PADDING } from "./mse.ts";
export type {
  AcceptIncomingOptions,
  EncryptionPolicy,
  EncryptOutgoingOptions,
  IncomingConnection,
} from "./mse.ts";
export { MSE_KEY_LENGTH, MseKeyExchange } from "./dh.ts";
export { createRc4, Rc4, WasmRc4 } from "./rc4.ts";
export type { Rc4Cipher } from "./rc4.ts";
