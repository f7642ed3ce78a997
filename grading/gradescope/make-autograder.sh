#!/usr/bin/env bash
# Builds autograder.zip for a Gradescope programming assignment: the
# repository as committed, with setup.sh and run_autograder at the top of the
# zip, where Gradescope looks for them. Gradescope unpacks the zip into
# /autograder/source.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(realpath -m "${1:-autograder.zip}")
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
git archive --format=tar HEAD | tar -x -C "$staging"
cp grading/gradescope/setup.sh grading/gradescope/run_autograder "$staging/"
( cd "$staging" && zip -qr "$out" . )
echo "wrote $out: upload it as the autograder of a Gradescope programming assignment"
