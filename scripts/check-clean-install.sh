#!/usr/bin/env bash
# A fresh clone of this repository's HEAD, with nothing beside it, installed as a new user would with
# npm blocking every install script that package.json's allowScripts does not decide
# (--strict-allow-scripts), must give a working app: no allowScripts warning, better-sqlite3 opens a
# database, the native CPU kernels load (where a C++ compiler is present), and `tfkd serve` answers the
# UI. Takes a few minutes and the network (the npm registry); the clone is deleted at the end.
#
#   ELECTRON_SKIP_BINARY_DOWNLOAD=1 ONNXRUNTIME_NODE_INSTALL=skip scripts/check-clean-install.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tfkd-clean-install-XXXXXX")
serve_pid=
cleanup() {
  # npx runs tfkd as its child: stop the whole process group that setsid gave it.
  if [[ -n $serve_pid ]]; then kill -- "-$serve_pid" 2>/dev/null || kill "$serve_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

git clone --quiet --no-hardlinks --branch "$(git -C "$repo" rev-parse --abbrev-ref HEAD)" "$repo" "$work/tfkd-studio"
cd "$work/tfkd-studio"
echo "== npm ci --strict-allow-scripts in $PWD ($(npm --version))"
npm ci --strict-allow-scripts --no-audit --no-fund 2>&1 | tee "$work/ci.log"
if grep -qi "not yet covered by allowScripts" "$work/ci.log"; then
  echo "FAIL: npm ci warned about install scripts not covered by allowScripts" >&2
  exit 1
fi
npm install-scripts ls 2>&1 | tee "$work/ls.log"
grep -q "No packages with unreviewed install scripts" "$work/ls.log" || {
  echo "FAIL: npm install-scripts ls lists unreviewed packages" >&2
  exit 1
}

echo "== better-sqlite3 opens a database"
node -e "const D=require('better-sqlite3');const db=new D('$work/check.db');db.exec('create table t(x)');db.prepare('insert into t values (1)').run();console.log('sqlite', db.prepare('select sqlite_version() v').get().v);db.close()"

echo "== the native CPU kernels"
if command -v c++ >/dev/null || command -v g++ >/dev/null; then
  node -e "const k=require('@tfkd/cpu-kernels');if(typeof k.conv2d!=='function')throw new Error('no conv2d');console.log('cpu-kernels:', Object.getOwnPropertyNames(k).join(', '))"
else
  echo "no C++ compiler: the kernels are skipped by design (apt-get install -y g++ make python3)"
fi

echo "== npx tfkd serve answers the UI"
export TFKD_HOME="$work/home"
setsid npx tfkd serve --port 0 >"$work/serve.log" 2>&1 &
serve_pid=$!
# npx and the first start are slow on a loaded machine: wait up to 3 minutes for the URL.
for _ in $(seq 1 360); do
  url=$(grep -o 'http://127.0.0.1:[0-9]*/?token=[^ ]*' "$work/serve.log" || true)
  [[ -n $url ]] && break
  sleep 0.5
done
[[ -n ${url:-} ]] || {
  cat "$work/serve.log" >&2
  echo "FAIL: tfkd serve printed no URL" >&2
  exit 1
}
node - "$url" <<'EOF'
const url = process.argv[2]
const first = await fetch(url, { redirect: 'manual' })
const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0]
const page = await fetch(new URL('/', url), { headers: { cookie } })
const body = await page.text()
if (page.status !== 200 || !/<div id="app"|<script/.test(body)) {
  console.error(`FAIL: / answered ${page.status}: ${body.slice(0, 300)}`)
  process.exit(1)
}
console.log(`/ answered ${page.status} ${page.headers.get('content-type')} (${body.length} bytes of index.html)`)
EOF
echo "OK: a fresh clone installs with npm ci --strict-allow-scripts and serves the UI"
