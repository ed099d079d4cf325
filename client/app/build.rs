//! The screens' wasm keeps its relocations (`--emit-relocs`): `wasm-split-cli` needs them to
//! move each lazily loaded screen (`src/screens.rs`) into a chunk of its own
//! (`scripts/build-screens.mjs`). Only the final link of the wasm binary is affected.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo::rustc-link-arg-bins=--emit-relocs");
    }
}
