// Builds the screens' wasm (client/app) into Trunk's staging folder, split into chunks: the
// page's first wasm holds the shell, the list and the engine link; each lazily loaded screen
// (client/app/src/screens.rs) becomes a chunk of its own, fetched on first use. Trunk 0.21
// cannot split (its pipeline runs wasm-bindgen right after cargo), so this runs as part of
// its post-build hook (scripts/post-build.mjs), the same steps cargo-leptos takes:
//   cargo build (linked with --emit-relocs, client/app/build.rs)
//   → wasm-split-cli (crate wasm_split_cli_support, pinned in scripts/install-tools.sh)
//   → wasm-bindgen --keep-lld-exports (the chunks link to the main module's exports)
//   → wasm-opt -Oz on every module (release builds).
// Then it names the main module by the hash of its contents (as Trunk names its outputs,
// so the relay serves them as immutable) and adds the loader to index.html.
//
// `node scripts/build-screens.mjs --prepare` (scripts/lib/build.sh, beside `trunk build`)
// does every step but the last two ahead, into target/screens-split/<profile>-opt, while
// Trunk optimises the engine's wasm: the hook then only waits for it and copies (each
// wasm-opt runs on one core, ~30 s for each module). The hook does all of it itself when
// nothing was prepared for this very build (its main module's hash, with the same
// wasm-bindgen and wasm-opt).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const prepareOnly = process.argv.includes('--prepare');
const staging = process.env.TRUNK_STAGING_DIR;
if (!staging && !prepareOnly) throw new Error('run by trunk as a post_build hook (TRUNK_STAGING_DIR is not set), or with --prepare');
// A `--prepare` run is for a release build (scripts/lib/build.sh makes no other).
const release = prepareOnly || process.env.TRUNK_PROFILE !== 'debug';
const root = process.cwd();
const run = (command, args) => execFileSync(command, args, { cwd: root, stdio: 'inherit' });

const started = Date.now();
const profile = release ? 'release' : 'debug';
run('cargo', [
  'build', '--offline', '-p', 'fieldbook-client', '--bin', 'fieldbook-client',
  '--target', 'wasm32-unknown-unknown', ...(release ? ['--release'] : []),
]);
const targetDir = process.env.CARGO_TARGET_DIR || join(root, 'target');
const linked = join(targetDir, 'wasm32-unknown-unknown', profile, 'fieldbook-client.wasm');
const hash = createHash('sha256').update(readFileSync(linked)).digest('hex').slice(0, 16);
const name = `fieldbook-client-${hash}`;

const splitDir = join(targetDir, 'screens-split');
// Every module as wasm-bindgen left it, names included (scripts/profile.sh serves those).
const work = join(splitDir, profile);
// The same modules as the build ships them (optimised in a release build).
const optimised = join(splitDir, `${profile}-opt`);
// What `optimised` holds, written once it is all there: the build's name, and the tools'
// versions (another wasm-bindgen or wasm-opt makes other files of the same linked wasm).
const prepared = join(splitDir, `${profile}.prepared`);
const version = (tool) => execFileSync(tool, ['--version'], { cwd: root, encoding: 'utf8' }).trim();
const preparedKey = [name, version('wasm-bindgen'), version('wasm-opt')].join('\n');
// The process id of a `--prepare` run under way (written by scripts/lib/build.sh).
const preparing = join(splitDir, `${profile}.preparing`);

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const isPrepared = () => existsSync(prepared) && readFileSync(prepared, 'utf8') === preparedKey;

// Split, bind and optimise into `optimised`.
function prepare() {
  rmSync(prepared, { force: true });
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  run('wasm-split-cli', ['--target', 'web', '--out-name', name, linked, work]);
  // The main module, as split: wasm-bindgen makes `<name>.js` and `<name>_bg.wasm` from it.
  const splitMain = join(work, `${name}.wasm`);
  run('wasm-bindgen', [
    '--target', 'web', '--keep-lld-exports', '--no-demangle', '--no-typescript',
    '--out-dir', work, '--out-name', name, splitMain,
  ]);
  rmSync(splitMain);

  // The split's own files (its loader `__wasm_split.js`, `split_<group>.wasm` and the
  // `chunk_<n>.wasm` of code groups share) carry fixed names: they get the main module's
  // hash, so the relay serves them as immutable and a page of one build can never load a
  // chunk of another (their imports would not match).
  const renamed = new Map(
    readdirSync(work)
      .filter((file) => file === '__wasm_split.js' || /^(split_|chunk_).*\.wasm$/.test(file))
      .map((file) => [file, file === '__wasm_split.js' ? `wasm-split-${hash}.js` : file.replace(/\.wasm$/, `-${hash}.wasm`)]),
  );
  if (!renamed.has('__wasm_split.js') || renamed.size < 2) throw new Error(`wasm-split-cli split nothing out (${[...renamed.keys()]})`);
  const rewrite = (file, edit) => writeFileSync(join(work, file), edit(readFileSync(join(work, file), 'utf8')));
  // The main module's JS imports the loader (only the import specifiers: the import object's
  // keys name the wasm's own imports).
  const replaceAll = (text, from, to) => {
    if (!text.includes(from)) throw new Error(`build-screens: ${from} not found where wasm-split-cli used to write it`);
    return text.replaceAll(from, to);
  };
  rewrite(`${name}.js`, (text) => replaceAll(text, 'from "./__wasm_split.js"', `from "./${renamed.get('__wasm_split.js')}"`));
  rewrite('__wasm_split.js', (text) => {
    for (const [from, to] of renamed) if (from.endsWith('.wasm')) text = replaceAll(text, `"./${from}"`, `"./${to}"`);
    return text;
  });
  for (const [from, to] of renamed) renameSync(join(work, from), join(work, to));

  rmSync(optimised, { recursive: true, force: true });
  mkdirSync(optimised, { recursive: true });
  // The features rustc enables for wasm32-unknown-unknown; the chunks carry no
  // target-features section for wasm-opt to detect them from.
  const features = [
    '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-reference-types',
    '--enable-multivalue', '--enable-sign-ext', '--enable-mutable-globals',
  ];
  for (const file of readdirSync(work).sort()) {
    if (release && file.endsWith('.wasm')) run('wasm-opt', ['-Oz', ...features, join(work, file), '-o', join(optimised, file)]);
    else copyFileSync(join(work, file), join(optimised, file));
  }
  writeFileSync(prepared, preparedKey);
}

if (prepareOnly) {
  try {
    if (!isPrepared()) prepare();
    console.log(`screens: ${name} prepared in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    rmSync(preparing, { force: true });
  }
  process.exit(0);
}

// A `--prepare` run under way: its result, once it ends (or this does it all, below).
while (existsSync(preparing) && alive(Number(readFileSync(preparing, 'utf8')))) {
  await new Promise((resolve) => setTimeout(resolve, 200));
}
if (!isPrepared()) prepare();
const outputs = readdirSync(optimised).sort();
for (const file of outputs) copyFileSync(join(optimised, file), join(staging, file));

// The loader, where Trunk put it for a `rel="rust"` link: start the main module as soon as
// the page parses, with its two files fetched early.
const integrity = (file) => `sha384-${createHash('sha384').update(readFileSync(join(staging, file))).digest('base64')}`;
const js = `${name}.js`;
const wasm = `${name}_bg.wasm`;
const loader = [
  `<script type="module">import init from '/${js}';\nawait init({ module_or_path: '/${wasm}' });</script>`,
  `<link rel="modulepreload" href="/${js}" crossorigin="anonymous" integrity="${integrity(js)}">`,
  `<link rel="preload" href="/${wasm}" crossorigin="anonymous" integrity="${integrity(wasm)}" as="fetch" type="application/wasm">`,
].join('\n');
const indexPath = join(staging, 'index.html');
const index = readFileSync(indexPath, 'utf8');
if (!index.includes('</head>')) throw new Error('index.html has no </head> to put the screens\' loader before');
writeFileSync(indexPath, index.replace('</head>', `${loader}\n</head>`));

const chunks = outputs.filter((f) => f.endsWith('.wasm') && f !== wasm);
const kb = (...files) => (files.reduce((sum, file) => sum + statSync(join(staging, file)).size, 0) / 1024).toFixed(0);
console.log(`screens: ${wasm} ${kb(wasm)} KB and ${chunks.length} chunks of ${kb(...chunks)} KB, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
