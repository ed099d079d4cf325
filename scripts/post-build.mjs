// Trunk's post-build hook (Trunk.toml). Trunk runs the hooks of one stage side by side, so
// the steps that depend on each other run here, in order: the split screens' wasm first
// (scripts/build-screens.mjs), then the service worker over every file of the build,
// chunks included (scripts/build-sw.mjs).
await import('./build-screens.mjs');
await import('./build-sw.mjs');
