/**
 * Naming the client behind a remote peer id (BEP 20 conventions), for display only.
 */

/** Two-letter Azureus-style codes (`-XX1234-`) of common clients. */
const AZUREUS_CLIENTS: Record<string, string> = {
  AG: "Ares",
  AZ: "Vuze",
  BC: "BitComet",
  BI: "Bittern",
  BT: "BitTorrent",
  DE: "Deluge",
  FW: "FrostWire",
  KT: "KTorrent",
  LT: "libtorrent",
  lt: "libTorrent (rakshasa)",
  PI: "PicoTorrent",
  qB: "qBittorrent",
  SD: "Thunder",
  TL: "Tribler",
  TR: "Transmission",
  UM: "µTorrent Mac",
  UT: "µTorrent",
  WD: "WebTorrent Desktop",
  WW: "WebTorrent",
  XL: "Xunlei",
};

/** One-letter Shadow-style codes (`S58B-----...`). */
const SHADOW_CLIENTS: Record<string, string> = {
  A: "ABC",
  O: "Osprey Permaseed",
  Q: "BTQueue",
  R: "Tribler",
  S: "Shadow",
  T: "BitTornado",
  U: "UPnP NAT BitTorrent",
};

const SHADOW_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-";

/** One Azureus version character: 0-9, then A-Z for 10-35 (libtorrent writes 1.2.10 as 12A0). */
function versionDigit(char: string): number | undefined {
  const value = parseInt(char, 36);
  return Number.isNaN(value) ? undefined : value;
}

function azureusVersion(code: string, chars: string): string | undefined {
  if (code === "WW" || code === "WD") {
    // WebTorrent writes two decimal digits per component: 0109 is 1.9.
    if (!/^\d{4}$/.test(chars)) return undefined;
    return `${Number(chars.slice(0, 2))}.${Number(chars.slice(2))}`;
  }
  if (code === "TR" && /^[0-3]\d{2}[0-9A-Z]$/.test(chars)) {
    // Transmission before 4.0: major, two-digit minor, then 0 (release) or Z/X/B (dev builds).
    const suffix = chars[3] === "0" ? "" : chars[3] === "Z" || chars[3] === "X" ? "+" : "b";
    return `${chars[0]}.${chars.slice(1, 3)}${suffix}`;
  }
  const digits = [...chars].map(versionDigit);
  if (digits.some((digit) => digit === undefined)) return undefined;
  const parts = digits as number[];
  // The fourth component is a build/tag digit; show it only when it is not zero.
  return (parts[3] === 0 ? parts.slice(0, 3) : parts).join(".");
}

function printablePrefix(peerId: Uint8Array): string {
  let text = "";
  for (let i = 0; i < Math.min(peerId.length, 8); i++) {
    if (peerId[i] < 0x21 || peerId[i] > 0x7e) break;
    text += String.fromCharCode(peerId[i]);
  }
  return text;
}

/**
 * The client name and version encoded in a peer id, e.g. `libtorrent 2.0.8`, `aria2 1.36.0`,
 * `Transmission 3.00`. Unknown ids give `unknown` plus their printable prefix, e.g.
 * `unknown (-XX1234-)`.
 *
 * @param peerId A remote peer's 20-byte id.
 * @returns A display name.
 *
 * @example
 * ```ts
 * import { clientName } from "@bittern/bittern";
 *
 * console.log(clientName(new TextEncoder().encode("-qB4520-abcdefghijkl"))); // "qBittorrent 4.5.2"
 * ```
 */
export function clientName(peerId: Uint8Array): string {
  const head = String.fromCharCode(...peerId.subarray(0, 20));
  const azureus = /^-([A-Za-z0-9]{2})([0-9A-Za-z]{4})-/.exec(head);
  if (azureus) {
    const name = AZUREUS_CLIENTS[azureus[1]];
    const version = azureusVersion(azureus[1], azureus[2]);
    if (name) return version ? `${name} ${version}` : name;
  }
  const aria2 = /^A2-(\d+)-(\d+)-(\d+)-/.exec(head);
  if (aria2) return `aria2 ${Number(aria2[1])}.${Number(aria2[2])}.${Number(aria2[3])}`;
  const mainline = /^M(\d+)-(\d+)-(\d+)-/.exec(head);
  if (mainline) return `BitTorrent (Mainline) ${mainline[1]}.${mainline[2]}.${mainline[3]}`;
  const shadow = /^([A-Za-z])([0-9A-Za-z.\-]{5})---/.exec(head);
  if (shadow && SHADOW_CLIENTS[shadow[1]]) {
    const digits = shadow[2].replace(/-+$/, "");
    const version = [...digits].map((char) => SHADOW_DIGITS.indexOf(char)).join(".");
    return version ? `${SHADOW_CLIENTS[shadow[1]]} ${version}` : SHADOW_CLIENTS[shadow[1]];
  }
  if (head.startsWith("exbc")) return "BitComet";
  const prefix = printablePrefix(peerId);
  return prefix ? `unknown (${prefix})` : "unknown";
}
