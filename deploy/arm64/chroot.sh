#!/usr/bin/env bash
# Run COMMAND in /src of a Debian bookworm arm64 root, under qemu-user emulation (make pi).
#
#   deploy/arm64/chroot.sh [--share DIR] COMMAND...
#   deploy/arm64/chroot.sh --root         # build or reuse the root; print its path
#   deploy/arm64/chroot.sh --probe        # exit 0 if arm64 binaries can run here, else 77
#
# The root is built by mmdebstrap once per ISO week (or when PACKAGES change) and kept outside
# the checkout, in ${XDG_CACHE_HOME:-~/.cache}/serdevice/arm64/bookworm-<year>-W<week>/, so a
# fresh clone reuses it; older weeks are removed. Every call copies the working tree in afresh
# (tracked and untracked-but-not-ignored files), then runs COMMAND as root in a private mount
# namespace, with no network use: /proc, and DIR read-only at /share. No /sys: with it LiteRT's
# cpuinfo reads the x86 host's CPUs and crashes under qemu-user; without it LiteRT prints
# "Error in cpuinfo" and runs. Exit 77 with one line on stderr when this machine cannot run
# arm64 binaries (not root, no binfmt_misc, qemu-user-static or mmdebstrap missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
RELEASE=bookworm
PACKAGES=python3,python3-venv,libportaudio2,ca-certificates,libc-bin,dash,coreutils,base-passwd
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/serdevice/arm64
ROOT=$CACHE/$RELEASE-$(date +%G-W%V)
BINFMT=/proc/sys/fs/binfmt_misc
PROBE= SHARE= PRINT=
case "${1:-}" in
  --probe) PROBE=1 ;;
  --root) PRINT=1 ;;
  --share) SHARE=$(realpath "$2") && shift 2 ;;
esac

skip() { echo "arm64 check skipped: $*" >&2; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (chroot, binfmt_misc)"
for tool in mmdebstrap arch-test qemu-aarch64-static unshare chroot; do
  command -v $tool >/dev/null || skip "$tool not installed (make apt installs it)"
done
[ -e $BINFMT/register ] || mount -t binfmt_misc binfmt_misc $BINFMT 2>/dev/null ||
  skip "cannot mount binfmt_misc at $BINFMT"
[ -e $BINFMT/qemu-aarch64 ] || grep -hv '^#' /usr/lib/binfmt.d/qemu-aarch64.conf 2>/dev/null \
  >$BINFMT/register 2>/dev/null || skip "cannot register qemu-aarch64 with binfmt_misc"
[ -z "$PROBE" ] || exit 0

mkdir -p "$CACHE"
exec 9>"$CACHE/lock" && flock 9   # one build or run at a time
if [ "$(cat "$ROOT/.packages" 2>/dev/null)" != "$PACKAGES" ]; then
  rm -rf --one-file-system "$CACHE"/$RELEASE-*   # earlier weeks, or a build that was cut short
  echo "building the $RELEASE arm64 root $ROOT (reused all week)" >&2
  start=$SECONDS
  # extract: the packages are unpacked and no maintainer script runs (under emulation they
  # would take minutes); of what those scripts do, this needs only the user database and the
  # library cache (ctypes finds PortAudio through it).
  mmdebstrap --quiet --architectures=arm64 --variant=extract --include=$PACKAGES \
    $RELEASE "$ROOT.tmp" >&2
  cp "$ROOT.tmp/usr/share/base-passwd/passwd.master" "$ROOT.tmp/etc/passwd"
  cp "$ROOT.tmp/usr/share/base-passwd/group.master" "$ROOT.tmp/etc/group"
  chroot "$ROOT.tmp" /sbin/ldconfig || skip "arm64 binaries do not run here (qemu-aarch64)"
  echo "$PACKAGES" >"$ROOT.tmp/.packages"
  mv "$ROOT.tmp" "$ROOT"
  echo "arm64 root built in $((SECONDS - start)) s" >&2
fi

[ -z "$PRINT" ] || { realpath "$ROOT"; exit 0; }
mkdir -p "$ROOT/proc" "$ROOT/share"
rm -rf --one-file-system "$ROOT/src" && mkdir "$ROOT/src"
git ls-files -z --cached --others --exclude-standard |
  tar --null -T - --ignore-failed-read -cf - | tar -xf - -C "$ROOT/src"

unshare --mount --propagation private bash -euc '
  root=$1 share=$2; shift 2
  mount -t proc proc "$root/proc"
  [ -z "$share" ] || mount --bind -o ro "$share" "$root/share"
  exec chroot "$root" "$@"' _ "$ROOT" "$SHARE" \
  env -i HOME=/root LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin \
  sh -c 'cd /src && exec "$@"' _ "$@"
