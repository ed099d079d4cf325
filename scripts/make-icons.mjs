// Draws Fieldbook's app icons as PNG files (no image tools needed): a navy square with a
// white open book and a green bookmark. Deterministic; run once, the PNGs are committed:
//   node scripts/make-icons.mjs
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'client', 'icons');
const NAVY = [0x17, 0x32, 0x4d];
const WHITE = [0xff, 0xff, 0xff];
const GREEN = [0x12, 0x7a, 0x68];

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
};

/** `safe`: fraction of the size the drawing keeps inside (maskable icons need 80%). */
function icon(size, safe) {
  const px = (x, y) => {
    const u = (x + 0.5) / size - 0.5; // -0.5 … 0.5
    const v = (y + 0.5) / size - 0.5;
    const s = safe * 0.5; // half-extent of the drawing
    const bu = u / s;
    const bv = v / s; // -1 … 1 inside the drawing
    // Two pages of an open book, slightly tilted upwards towards the spine.
    const page = Math.abs(bu) > 0.06 && Math.abs(bu) < 0.78 && bv > -0.5 + Math.abs(bu) * 0.12 && bv < 0.52;
    const bookmark = bu > 0.32 && bu < 0.5 && bv > -0.62 && bv < 0.05 - (Math.abs(bu - 0.41) < 0.09 ? 0 : 1) &&
      !(bv > -0.05 && Math.abs(bu - 0.41) < (bv + 0.05) * 0.9);
    if (bookmark) return GREEN;
    if (page) {
      // Lines of text on the pages.
      const line = Math.abs(bu) > 0.18 && Math.abs(bu) < 0.66 && bv > -0.3 && bv < 0.38 && ((bv + 0.3) * 10) % 2.2 < 0.55;
      return line ? NAVY : WHITE;
    }
    return NAVY;
  };
  const raw = Buffer.alloc((size * 3 + 1) * size);
  for (let y = 0; y < size; y++) {
    raw[y * (size * 3 + 1)] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const [r, g, b] = px(x, y);
      const at = y * (size * 3 + 1) + 1 + x * 3;
      raw[at] = r;
      raw[at + 1] = g;
      raw[at + 2] = b;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

for (const [name, size, safe] of [
  ['icon-192.png', 192, 0.8],
  ['icon-512.png', 512, 0.8],
  ['maskable-512.png', 512, 0.6],
  ['apple-touch-icon.png', 180, 0.8],
]) {
  writeFileSync(join(out, name), icon(size, safe));
  console.log(`wrote ${name}`);
}
