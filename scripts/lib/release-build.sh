# Sourced by scripts/bench.sh and scripts/profile.sh (from the repository root, with $root
# set): installs what is missing, puts the npm tools on PATH, and builds the release client
# (trunk, into dist/) and the release relay.
scripts/install-tools.sh >/dev/null
export PATH="$root/.tools/node_modules/.bin:$PATH"
trunk build --release
cargo build --release -p fieldbook-server
