#!/usr/bin/env bash
# Builds a private Debian sysroot for cross-compiling edgemon.
#
#   toolchains/make-sysroot.sh <arm64|armhf> [dir]
#
# dir defaults to $EDGEMON_SYSROOT, else /var/cache/edgemon/sysroot/<arch>.
#
# Why a private sysroot instead of `dpkg --add-architecture`: multiarch needs every
# `Multi-Arch: same` package at the *same version* on all architectures (the mirror does not
# always have that), and a foreign-arch index that fails to verify breaks the host's apt-get
# update. A private tree touches nothing on the host.
#
# The sysroot is made with `mmdebstrap --variant=extract`: apt resolves the dependencies of the
# -dev packages below, the .debs are unpacked, no maintainer script runs (so no emulation is
# needed). Sources are the host's own apt sources (apt-get indextargets), restricted to the host's
# release, its -updates and -security suites, component main. The -security suite is used only if
# its index verifies for the target architecture; otherwise it is skipped with a note.
#
# Idempotent: a stamp records a hash of the architecture + package list; when it matches, the
# script exits at once. The tree is built in a temporary directory and renamed into place, so an
# interrupted run never leaves a half-made sysroot that looks complete.
set -euo pipefail

usage() { echo "usage: $0 <arm64|armhf> [dir]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
arch=$1
case "$arch" in
  arm64) triplet=aarch64-linux-gnu ;;
  armhf) triplet=arm-linux-gnueabihf ;;
  *) usage ;;
esac
dir=${2:-${EDGEMON_SYSROOT:-/var/cache/edgemon/sysroot/$arch}}

# Target libraries and headers edgemon builds against. Keep in sync with the root CMakeLists.txt.
# Only -dev packages: apt pulls in the runtime libraries they depend on.
pkgs=(
  libc6-dev libstdc++-12-dev
  libpaho-mqttpp-dev libpaho-mqtt-dev libssl-dev
  libboost1.74-dev
  libsqlite3-dev libcurl4-openssl-dev libsystemd-dev
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libnanopb-dev libprotobuf-c-dev liblwip-dev
)
layout_version=3   # bump when the post-processing below changes

stamp="$dir/.edgemon-sysroot"
want=$(printf '%s\n' "layout=$layout_version" "arch=$arch" "${pkgs[@]}" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$want" ]; then
  echo "sysroot: $dir is up to date ($arch)"
  exit 0
fi

# One builder per directory at a time; a run that waited finds the other's stamp.
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
if [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$want" ]; then
  echo "sysroot: $dir is up to date ($arch)"
  exit 0
fi

command -v mmdebstrap >/dev/null || { echo "sysroot: mmdebstrap missing; run .ci/deps --cross" >&2; exit 1; }

# --- apt sources, from the host's configuration -------------------------------------------------
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || { echo "sysroot: cannot tell the host's release codename" >&2; exit 1; }

# "<repo-uri> <suite> <sources-entry>" for every configured binary index of main in our release
# family; <sources-entry> is file:line (one-line format) or file:stanza (deb822).
# shellcheck disable=SC2016  # $(...) are apt format fields
mapfile -t repos < <(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT) $(SOURCESENTRY)' \
                       'Identifier: Packages' 2>/dev/null |
                     awk -v c="$codename" '$3 == "main" && ($2 == c || $2 == c "-updates" || $2 == c "-security") { print $1, $2, $4 }' |
                     sort -u -k1,2)
[ "${#repos[@]}" -gt 0 ] || { echo "sysroot: no '$codename' main sources in the host's apt configuration" >&2; exit 1; }

# The Signed-By keyring file of a sources entry, if it names one (else apt's trusted keys apply).
signed_by() {  # file:n
  local file=${1%:*} n=${1##*:} key=""
  [ -r "$file" ] || return 0
  if [[ "$file" == *.sources ]]; then
    key=$(awk -v n="$n" 'BEGIN { RS = "" }
            { body = 0; split($0, l, "\n"); for (i in l) if (l[i] !~ /^[ \t]*#/) body = 1 }
            body && ++k == n { for (i in l) if (tolower(l[i]) ~ /^signed-by:[ \t]*\/[^ \t]*[ \t]*$/) { sub(/^[^:]*:[ \t]*/, "", l[i]); sub(/[ \t]*$/, "", l[i]); print l[i] } }' "$file")
  else
    key=$(sed -n "${n}p" "$file" | grep -o 'signed-by=[^] ]*' | head -n1 | cut -d= -f2-)
  fi
  [ -n "$key" ] && [ -r "$key" ] && echo "$key"
  return 0
}

work=$(mktemp -d /tmp/edgemon-sysroot.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Does the suite's index verify (signature and hashes) for the target architecture? A throw-away
# apt state in $work, nothing of the host's apt is touched.
index_ok() {  # sources.list line
  local d="$work/apt-check"
  rm -rf "$d"; mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/parts" "$d/prefs"
  echo "$1" > "$d/sources.list"
  apt-get -qq -o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts="$d/parts" \
    -o Dir::Etc::Preferences="$d/prefs/none" -o Dir::Etc::PreferencesParts="$d/prefs" \
    -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" -o Dir::State::Status=/dev/null \
    -o APT::Architecture="$arch" -o APT::Architectures="$arch" -o Acquire::Languages=none \
    -o Debug::NoLocking=1 -o APT::Sandbox::User=root update --error-on=any >"$d/log" 2>&1
}

sources=()
for r in "${repos[@]}"; do
  read -r uri suite entry <<<"$r"
  opts="arch=$arch"
  key=$(signed_by "$entry"); [ -z "$key" ] || opts+=" signed-by=$key"
  line="deb [$opts] $uri $suite main"
  if [ "$suite" = "$codename-security" ] && ! index_ok "$line"; then
    echo "sysroot: note: $uri $suite does not verify for $arch; building without it:" >&2
    grep "^E:" "$work/apt-check/log" | sed "s/^/sysroot:   /" >&2 || true
    continue
  fi
  sources+=("$line")
done

# --- build ------------------------------------------------------------------------------------
echo "sysroot: building $arch sysroot in $dir from:"
printf 'sysroot:   %s\n' "${sources[@]}"
new="$dir.new.$$"
rm -rf "$new"
trap 'rm -rf "$work" "$new"' EXIT
start=$SECONDS
incl=$(IFS=,; echo "${pkgs[*]}")
# --skip=cleanup/apt keeps the downloaded .debs so their size can be reported; removed below.
mmdebstrap --quiet --variant=extract --architectures="$arch" \
  --include="$incl" \
  --aptopt='Acquire::Languages "none"' \
  --skip=check/qemu,cleanup/apt \
  "$codename" "$new" "${sources[@]}"
debs_kib=$(du -sk "$new/var/cache/apt/archives" | cut -f1)
ndebs=$(find "$new/var/cache/apt/archives" -name '*.deb' | wc -l)

# Trim what a compiler never reads: apt state and caches, docs, man pages, locales.
rm -rf "$new"/var/cache/apt "$new"/var/lib/apt/lists "$new"/usr/share/doc "$new"/usr/share/man \
       "$new"/usr/share/info "$new"/usr/share/locale "$new"/usr/share/lintian
# ld reads <sysroot>/etc/ld.so.conf to find the dependencies of shared libraries; the extract
# variant does not run the maintainer script that would create it.
[ -e "$new/etc/ld.so.conf" ] || echo 'include /etc/ld.so.conf.d/*.conf' > "$new/etc/ld.so.conf"

# Absolute symlinks (e.g. usr/lib/<triplet>/libfoo.so -> /lib/<triplet>/libfoo.so.1) would point
# into the *host* when the linker follows them under --sysroot. Rewrite them as relative links.
fixed=0
while IFS= read -r -d '' link; do
  target=$(readlink "$link")
  rel=$(realpath -m -s --relative-to="$(dirname "$link")" "$new$target")
  ln -sfn "$rel" "$link"
  fixed=$((fixed + 1))
done < <(find "$new" -type l -lname '/*' -print0)

# Sanity: the pieces the toolchain files rely on.
for f in "usr/lib/$triplet/libc.so" "usr/include/$triplet/bits/types.h" "usr/include/c++/12/vector"; do
  [ -e "$new/$f" ] || { echo "sysroot: $f missing in the new sysroot" >&2; exit 1; }
done

{ echo "$want"; echo "arch=$arch"; printf '%s\n' "${sources[@]}"; printf 'pkg %s\n' "${pkgs[@]}"; } > "$new/.edgemon-sysroot"
rm -rf "$dir"
mv "$new" "$dir"
echo "sysroot: $arch done in $((SECONDS - start)) s: downloaded $ndebs .debs ($((debs_kib / 1024)) MiB)," \
     "$(du -sm "$dir" | cut -f1) MiB on disk, $fixed absolute symlink(s) made relative"
