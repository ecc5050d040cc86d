#!/bin/bash
# Builds and inspects the edgemon .deb of one build tree. Used by the ctest test packaging.deb.
#   check_deb.sh <build-dir> <version> <expect-web 0|1> [cpack]
# Exit 0: all checks passed; 1: a check failed (each failure is printed); 77: skipped.
set -euo pipefail

build=$1
version=$2
expect_web=$3
cpack=${4:-cpack}

for tool in dpkg-deb dpkg objdump; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: $tool not found"
    exit 77
  fi
done

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/edgemon-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

arch=$(dpkg --print-architecture)  # native build: the package's architecture is the host's
deb="$tmp/out/edgemon_${version}_${arch}.deb"

# --- build -----------------------------------------------------------------------------------
if ! "$cpack" -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1; then
  cat "$tmp/cpack.log"
  echo "FAIL: cpack failed"
  exit 1
fi
if [ ! -f "$deb" ]; then
  cat "$tmp/cpack.log"
  echo "FAIL: expected $deb; cpack made:"
  ls -l "$tmp/out"
  exit 1
fi
pass "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# --- control fields ----------------------------------------------------------------------------
dpkg-deb -I "$deb"
field() { dpkg-deb -f "$deb" "$1"; }
expect_field() {
  local got
  got=$(field "$1")
  if [ "$got" = "$2" ]; then pass "$1: $got"; else fail "$1 is '$got', expected '$2'"; fi
}
expect_field Package edgemon
expect_field Version "$version"
expect_field Architecture "$arch"
expect_field Section net
expect_field Priority optional
expect_field Recommends mosquitto
for f in Maintainer Description Homepage Depends; do
  if [ -n "$(field "$f")" ]; then pass "$f present"; else fail "$f missing"; fi
done

# --- file list ---------------------------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|; s|/$||' >"$tmp/files"
expected_files=(
  /usr/bin/edgemon-agent
  /usr/bin/edgemon-gateway
  /lib/systemd/system/edgemon-agent.service
  /lib/systemd/system/edgemon-gateway.service
  /etc/edgemon/agent.toml
  /etc/edgemon/gateway.toml
)
if [ "$expect_web" = 1 ]; then expected_files+=(/usr/share/edgemon/web/index.html); fi
for f in "${expected_files[@]}"; do
  if grep -qxF "$f" "$tmp/files"; then pass "contains $f"; else fail "missing $f"; fi
done
# Nothing from the build machine or the test tree may leak in.
if grep -vE '^/(usr/bin|usr/sbin|usr/share/edgemon/mosquitto|usr/share/edgemon|usr/share/edgemon/web(/.*)?|lib/systemd/system|etc/edgemon)(/[^/]+)?$|^/$|^/(usr|usr/sbin|usr/share|lib|lib/systemd|etc)$' \
     "$tmp/files" >"$tmp/unexpected"; then
  fail "unexpected paths: $(tr '\n' ' ' <"$tmp/unexpected")"
else
  pass "no unexpected paths"
fi

# --- control archive: conffiles and maintainer scripts ------------------------------------------
dpkg-deb -e "$deb" "$tmp/control"
printf '/etc/edgemon/agent.toml\n/etc/edgemon/gateway.toml\n' >"$tmp/conffiles.expected"
if cmp -s "$tmp/conffiles.expected" "$tmp/control/conffiles"; then
  pass "conffiles: $(tr '\n' ' ' <"$tmp/control/conffiles")"
else
  fail "conffiles is '$(cat "$tmp/control/conffiles" 2>/dev/null)'"
fi
for s in postinst prerm postrm; do
  if [ -x "$tmp/control/$s" ] && [ "$(sed -n 1p "$tmp/control/$s")" = '#!/bin/sh' ] &&
     grep -qx 'set -e' "$tmp/control/$s" && sh -n "$tmp/control/$s"; then
    pass "$s: executable, set -e, parses"
  else
    fail "$s missing, not executable, without set -e, or not valid sh"
  fi
done

# --- data: run the extracted programs -----------------------------------------------------------
dpkg-deb -x "$deb" "$tmp/root"
for p in agent gateway; do
  out=$("$tmp/root/usr/bin/edgemon-$p" --version 2>&1) || true
  if [ "$out" = "edgemon-$p $version" ]; then pass "edgemon-$p --version: $out"; else fail "edgemon-$p --version: '$out'"; fi
  out=$("$tmp/root/usr/bin/edgemon-$p" --check-config --config "$tmp/root/etc/edgemon/$p.toml" 2>&1) || true
  if [ "$out" = "edgemon-$p: configuration ok" ]; then pass "packaged $p.toml is valid"; else fail "$p.toml: $out"; fi
  if grep -qx "ExecStart=/usr/bin/edgemon-$p --config /etc/edgemon/$p.toml" \
       "$tmp/root/lib/systemd/system/edgemon-$p.service"; then
    pass "edgemon-$p.service runs the packaged config"
  else
    fail "edgemon-$p.service: unexpected ExecStart"
  fi
done

# --- Depends is exactly the packages of the binaries' DT_NEEDED sonames -------------------------
depends=$(field Depends)
dep_names=" "
IFS=',' read -ra dep_items <<<"$depends"
for item in "${dep_items[@]}"; do
  read -r name _ <<<"$item"
  dep_names="$dep_names$name "
done
needed_pkgs=" "
for soname in $(objdump -p "$tmp/root/usr/bin/edgemon-agent" "$tmp/root/usr/bin/edgemon-gateway" |
                awk '/NEEDED/{print $2}' | sort -u); do
  path=$(/sbin/ldconfig -p | awk -v s="$soname" '$1 == s && !found {print $NF; found = 1}')
  if [ -z "$path" ]; then fail "cannot resolve $soname"; continue; fi
  pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null || true)
  pkg=${pkg%%:*}
  if [ -z "$pkg" ]; then fail "no package owns $path ($soname)"; continue; fi
  needed_pkgs="$needed_pkgs$pkg "
  if [[ "$dep_names" == *" $pkg "* ]]; then
    pass "Depends has $pkg (for $soname)"
  else
    fail "Depends lacks $pkg (needed for $soname)"
  fi
done
for name in $dep_names; do
  if [[ "$needed_pkgs" != *" $name "* ]]; then
    fail "Depends lists $name, which no binary links (objdump -p | grep NEEDED)"
  fi
done

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
