// Trunk post-build hook: writes sw.js into the build from client/sw.js, with the list of
// every file of the build and a version hashed from their contents.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const staging = process.env.TRUNK_STAGING_DIR;
if (!staging) throw new Error('run by trunk as a post_build hook (TRUNK_STAGING_DIR is not set)');

const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else files.push(path);
  }
};
walk(staging);

const hash = createHash('sha256');
const precache = [];
for (const path of files) {
  const url = '/' + relative(staging, path).split(sep).join('/');
  // Never cache itself; precompressed siblings are the server's business.
  if (url === '/sw.js' || /\.(br|gz)$/.test(url)) continue;
  precache.push(url);
  hash.update(url).update('\0').update(readFileSync(path));
}
const version = hash.digest('hex').slice(0, 16);
const template = readFileSync(join(process.cwd(), 'client', 'sw.js'), 'utf8');
const sw = template.replace("'__VERSION__'", JSON.stringify(version)).replace('__PRECACHE__', JSON.stringify(precache));
writeFileSync(join(staging, 'sw.js'), sw);
const bytes = precache.reduce((sum, url) => sum + statSync(join(staging, url.slice(1))).size, 0);
console.log(`sw.js: version ${version}, ${precache.length} files, ${(bytes / 1024).toFixed(1)} KB precached`);
