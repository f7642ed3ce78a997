#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image.
# The autograder zip (see make-autograder.sh) holds this repository, which
# Gradescope unpacks into /autograder/source.
set -euo pipefail

apt-get update
apt-get install -y --no-install-recommends build-essential curl ca-certificates pkg-config

if ! command -v cargo >/dev/null 2>&1; then
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
fi
# shellcheck disable=SC1091
source "$HOME/.cargo/env"

cd /autograder/source
cargo build --release -p checker

# Warm the shared target directory once: grading the untouched stubs builds
# every lesson's dependencies, so each student only compiles their own code.
mkdir -p /tmp/warmup/stubs/exercises
cp -r exercises/. /tmp/warmup/stubs/exercises/
./target/release/checker grade --submissions /tmp/warmup --out /tmp/warmup-report --work /autograder/work --timeout 5 || true
rm -rf /tmp/warmup /tmp/warmup-report
