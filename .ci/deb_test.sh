#!/usr/bin/env bash
# The installed luamig, away from the source and build trees:
#  1. `cmake --install BUILD --prefix P` puts the binary, man page, completions
#     and editor types in their usual places, and that binary finds its types;
#  2. the CPack .deb declares exactly the runtime libraries as dependencies
#     (the ones the binary links, plus libpq, which it opens at run time);
#  3. `apt-get install ./luamig_*.deb` installs it; luamig --version, init and
#     upgrade head work in a temp directory with a clean environment; so do a
#     C program built against the installed luamig.h and libluamig.so, and
#     `require "luamig"` from plain lua5.4; the package is removed again (also
#     when a step fails).
# Needs root (or sudo) for apt-get; refuses to touch a luamig package that
# was installed before it ran. Usage: .ci/deb_test.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "${1:-build}")
sudo=()
((EUID == 0)) || sudo=(sudo)
fail() { echo "deb_test: $*" >&2; exit 1; }

if dpkg-query -W -f='${Status}' luamig 2>/dev/null | grep -q "install ok installed"; then
  fail "a luamig package is already installed; remove it first (this test installs and removes its own)"
fi
work=$(mktemp -d /tmp/luamig-deb.XXXXXX)
installed=0
cleanup() {
  ((installed)) && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq luamig >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# A clean environment: no LUAMIG_* pointing at the source tree, no build dir on PATH.
clean() { env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$work" LANG=C.UTF-8 "$@"; }

# The steps of a first session in a new project, run with luamig binary $1.
first_session() {
  local bin=$1 dir=$2 types=$3
  clean "$bin" --version | grep -q '^luamig .*Lua 5\.4' || fail "$bin --version"
  (cd "$work" && clean "$bin" init "$dir" >/dev/null) || fail "$bin init"
  grep -qF "\"$types\"" "$work/$dir/.luarc.json" || fail "$dir/.luarc.json does not point at $types"
  [[ -f "$work/$dir/.gitignore" && -f "$work/$dir/.luacheckrc" ]] || fail "init wrote no .gitignore/.luacheckrc"
  cd "$work/$dir"
  clean "$bin" revision -m "create users" --template sql --rev-id first >/dev/null
  sed -i 's/-- CREATE TABLE .../CREATE TABLE users (id INTEGER PRIMARY KEY);/' migrations/first_create_users.lua
  clean "$bin" upgrade head >/dev/null || fail "$bin upgrade head"
  [[ "$(clean "$bin" current -q)" == first* ]] || fail "$bin current is not at first"
  [[ "$(sqlite3 luamig.db "SELECT count(*) FROM sqlite_master WHERE name = 'users'")" == 1 ]] || fail "no users table"
  cd - >/dev/null
}

# The embedding APIs on the project first_session made in $1: a C program
# compiled with CFLAGS $2 (and linked with $3), and `require "luamig"` from
# lua5.4 with LUA_CPATH $4 ("" for the default).
embedded() {
  local dir=$1 cflags=$2 ldflags=$3 cpath=$4
  cat >"$work/app.c" <<'EOF_C'
#include <stdio.h>
#include <luamig.h>
int main(void) {
  char *err = NULL, *json = NULL;
  luamig *p = luamig_open("luamig.lua", NULL, &err);
  if (!p) { fprintf(stderr, "%s\n", err); return 1; }
  if (luamig_upgrade(p, "head", &err) != 0 || luamig_check(p, &err) != LUAMIG_OK) return 2;
  if (luamig_status_json(p, &json, &err) != 0) return 3;
  printf("%s %s\n", luamig_version(), json);
  luamig_free(json);
  luamig_close(p);
  return 0;
}
EOF_C
  # shellcheck disable=SC2086 # (word-split flags)
  cc -Wall -Werror $cflags "$work/app.c" $ldflags -o "$work/app" || fail "the C program does not build ($cflags)"
  (cd "$work/$dir" && clean "$work/app") | grep -q '"heads":\["first"\]' || fail "the C program did not reach first"
  # (from $work: Lua's default package.path has ./?.lua, which in the
  # project directory would find the config file luamig.lua first)
  (cd "$work" && clean env ${cpath:+LUA_CPATH="$cpath"} lua5.4 -e '
    local p = assert(require("luamig").open { config = "'"$dir"'/luamig.lua" })
    assert(p:upgrade("head")); assert(select(2, p:check()) == 0)
    assert(p:status().heads[1] == "first"); p:close()') || fail "require \"luamig\" from lua5.4 failed"
}

echo "== cmake --install to a prefix"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/luamig include/luamig.h lib/libluamig.so lib/x86_64-linux-gnu/lua/5.4/luamig.so share/man/man1/luamig.1 share/bash-completion/completions/luamig \
  share/zsh/vendor-completions/_luamig share/fish/vendor_completions.d/luamig.fish share/luamig/types/luamig.lua; do
  [[ -f "$prefix/$f" ]] || fail "cmake --install put no $f under the prefix"
done
first_session "$prefix/bin/luamig" from-prefix "$prefix/share/luamig/types"
embedded from-prefix "-I$prefix/include" "-L$prefix/lib -lluamig -Wl,-rpath,$prefix/lib" \
  "$prefix/lib/x86_64-linux-gnu/lua/5.4/?.so"

echo "== cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb=$(ls "$work"/pkg/luamig_*.deb)
declared=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*)//; s/ //g' | sort -u | tr '\n' ' ')
needed=()
while read -r lib; do
  # (every reader here reads its input to the end: one that stops early, as awk's exit or head -n 1 did,
  # can make the writer die of SIGPIPE, which pipefail and set -e turn into a silent exit)
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && !found { print $NF; found = 1 }')
  [[ -n "$path" ]] || fail "cannot find $lib"
  pkg=$(dpkg -S "$(realpath "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null || dpkg -S "*/$lib" | sed -n 1p)
  needed+=("${pkg%%:*}")
done < <(for elf in "$build/luamig" "$build/libluamig.so" "$build/lua/luamig.so"; do
  objdump -p "$elf" | awk '$1 == "NEEDED" { print $2 }'; done | sort -u)
grep -q "LUAMIG_WITH_PG:BOOL=ON" "$build/CMakeCache.txt" && needed+=("$(dpkg -S '*/libpq.so.5' | sed -n 1p | cut -d: -f1)")
expected=$(printf '%s\n' "${needed[@]}" | sort -u | tr '\n' ' ')
[[ "$declared" == "$expected" ]] || fail "the .deb declares Depends: $declared; the binary and libraries need: $expected"
echo "Depends: $(dpkg-deb -f "$deb" Depends)"

echo "== apt-get install ./$(basename "$deb")"
cp "$deb" "$work/"
(cd "$work" && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$(basename "$deb")" >/dev/null)
installed=1
[[ "$(clean sh -c 'command -v luamig')" == /usr/bin/luamig ]] || fail "luamig is not /usr/bin/luamig"
clean luamig --version
first_session /usr/bin/luamig from-deb /usr/share/luamig/types
[[ -f /usr/share/man/man1/luamig.1 || -f /usr/share/man/man1/luamig.1.gz ]] || fail "no man page installed"
offer=$(cd "$work/from-deb" && clean bash -c 'source /usr/share/bash-completion/completions/luamig
  COMP_WORDS=(luamig upgrade fi); COMP_CWORD=2; _luamig; echo "${COMPREPLY[*]}"')
[[ "$offer" == first ]] || fail "the installed bash completion offers '$offer' for 'luamig upgrade fi'"
embedded from-deb "" "-lluamig" ""

echo "== apt-get remove luamig"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq luamig >/dev/null
installed=0
[[ ! -e /usr/bin/luamig ]] || fail "/usr/bin/luamig is still there after apt-get remove"
echo "deb_test: ok"
