#!/usr/bin/env bash
# Install luamig's build and test dependencies from Debian's packages.
# Usage: .ci/deps.sh [build|test]   (test adds the server, busted and baselines)
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config liblua5.4-dev lua5.4 libsqlite3-dev libpq-dev
  lua-filesystem-dev lua-cjson-dev lua-argparse sqlite3 dpkg-dev)
# groff-base (man page check), graphviz (dot output), zsh and fish (completion scripts)
test_pkgs=(lua-busted lua-check postgresql python3-alembic python3-sqlalchemy python3-psycopg2 hyperfine valgrind
  groff-base graphviz zsh fish)

pkgs=("${build_pkgs[@]}")
[[ "${1:-build}" == test ]] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
sudo=()
((EUID == 0)) || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
if ((${#missing[@]} > 0)); then
  echo "Installing: ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -qq || echo "apt-get update failed; trying the cached package lists" >&2
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm, only for squawk-cli in the lint comparison (tests only), and optional:
# a machine may have npm from another Node.js package that Debian's npm
# conflicts with; without npm the comparison is skipped with a message.
if [[ "${1:-build}" == test ]] && ! command -v npm >/dev/null; then
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends npm >/dev/null 2>&1 ||
    echo "npm could not be installed: the squawk comparison will be skipped" >&2
fi
exit 0
