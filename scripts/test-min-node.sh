#!/usr/bin/env bash
# Runs the test suite once on the oldest Node the package supports (engines: >=22.15).
# That Node comes from the npm registry's `node` package, cached outside the repository.
set -euo pipefail
version="${MIN_NODE_VERSION:-22.15.0}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${TMPDIR:-/tmp}/astralog-node-${version}"
node_bin="$dir/node_modules/node/bin/node"
if [ ! -x "$node_bin" ] || [ "$("$node_bin" --version)" != "v${version}" ]; then
  rm -rf "$dir" && mkdir -p "$dir"
  echo '{"private":true,"allowScripts":{"node":true}}' > "$dir/package.json"
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "node@${version}"
fi
echo "tests on $("$node_bin" --version)"
cd "$root"
exec "$node_bin" node_modules/vitest/vitest.mjs run
