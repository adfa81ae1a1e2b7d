#!/bin/sh
# Runs a command inside an image's filesystem the way a container runtime with a read-only root would, without one
# (podman run cannot start containers on these machines): run it under `unshare --mount --propagation private`, so
# that every mount below is private to it and disappears when it exits.
#
#   unshare --mount --propagation private sh run-in-rootfs.sh ROOTFS UID:GID WORKDIR GUARD COMMAND [ARG…]
#
# ROOTFS (the image's filesystem, from `podman mount`) is made read-only; /tmp is a fresh tmpfs (the only writable
# place, as with a read-only root and an emptyDir on /tmp); /dev holds the usual character devices; /proc is
# mounted; /etc/hosts names only localhost and /etc/resolv.conf is empty, so no name server is ever asked. GUARD,
# a file, is copied to /tmp/egress-guard.ts for the command to preload. The command runs as UID:GID in WORKDIR, with
# this process' environment, and replaces this shell (same pid: signals reach it directly).
set -eu
rootfs=$1 userspec=$2 workdir=$3 guard=$4
shift 4
# The host's tools for the set-up; the command gets the PATH it was given.
command_path=${PATH:-/usr/local/bin:/usr/bin:/bin}
PATH=/usr/sbin:/usr/bin:/sbin:/bin
chroot=$(command -v chroot)

mount --bind "$rootfs" "$rootfs"
mount -o remount,bind,ro "$rootfs"
mount -t tmpfs -o mode=1777,nosuid,nodev,size=64m tmpfs "$rootfs/tmp"
mount -t tmpfs -o mode=0755,nosuid tmpfs "$rootfs/dev"
for d in null zero full random urandom tty; do
  : >"$rootfs/dev/$d"
  mount --bind "/dev/$d" "$rootfs/dev/$d"
done
mount -t proc -o nosuid,nodev,noexec proc "$rootfs/proc" 2>/dev/null || mount --rbind /proc "$rootfs/proc"

hosts=$(mktemp)
resolv=$(mktemp)
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$hosts"
chmod 0644 "$hosts" "$resolv"
mount --bind "$hosts" "$rootfs/etc/hosts"
mount --bind "$resolv" "$rootfs/etc/resolv.conf"
rm -f "$hosts" "$resolv"

cp "$guard" "$rootfs/tmp/egress-guard.ts"
chmod 0444 "$rootfs/tmp/egress-guard.ts"

PATH=$command_path
exec "$chroot" --userspec="$userspec" "$rootfs" /usr/bin/env --chdir="$workdir" "$@"
