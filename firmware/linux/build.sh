#!/usr/bin/env bash
# Builds vmfunc-vmi's Linux guest kernel from Debian's linux-source-6.1 package, reproducibly:
#   apt-get install linux-source-6.1 flex bison bc libelf-dev dwarves lz4
#   firmware/linux/build.sh            # -> bzImage, System.map, vmlinux.sym, config, linux.profile.json, linux.isf.json (committed)
#   firmware/linux/build.sh --check    # rebuilds into a temporary directory and compares
# The tree is unpacked to a fixed path ($VMFUNC_LINUX_BUILD, default /tmp/vmfunc-linux-build) so
# that nothing path-dependent differs between builds; the timestamp, user, host and build number
# are fixed through KBUILD_BUILD_*. The config is `make tinyconfig` plus vmfunc.config, and
# patches/ are applied in order (the vmi_trigger system call).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src_tar=/usr/src/linux-source-6.1.tar.xz
build="${VMFUNC_LINUX_BUILD:-/tmp/vmfunc-linux-build}"
out="$here"
check=0
if [ "${1:-}" = "--check" ]; then check=1; out="$(mktemp -d)"; fi

[ -r "$src_tar" ] || { echo "build.sh: $src_tar missing: apt-get install linux-source-6.1" >&2; exit 2; }
for t in flex bison bc pahole lz4 gcc make; do
  command -v "$t" >/dev/null || { echo "build.sh: $t missing (see the header of this script)" >&2; exit 2; }
done

export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'
export KBUILD_BUILD_USER=vmfunc KBUILD_BUILD_HOST=vmfunc-vmi KBUILD_BUILD_VERSION=1
export SOURCE_DATE_EPOCH=1767225600
jobs="$(nproc)"

rm -rf "$build"; mkdir -p "$build"
tar -xJf "$src_tar" -C "$build"
tree="$build/linux-source-6.1"
for p in "$here"/patches/*.patch; do patch -s -p1 -d "$tree" < "$p"; done
make -s -C "$tree" tinyconfig >/dev/null
"$tree/scripts/kconfig/merge_config.sh" -m -O "$tree" "$tree/.config" "$here/vmfunc.config" >/dev/null 2>&1
make -s -C "$tree" olddefconfig
# Every option of the fragment must have survived olddefconfig (a typo or a dependency would drop it).
while IFS= read -r line; do
  case "$line" in CONFIG_*=n) opt="${line%%=*}"; grep -q "^# $opt is not set" "$tree/.config" || grep -q "^$opt=n" "$tree/.config" || { echo "build.sh: $opt still set" >&2; exit 1; } ;;
                   CONFIG_*) grep -qx "$line" "$tree/.config" || { echo "build.sh: $line did not survive olddefconfig" >&2; exit 1; } ;; esac
done < "$here/vmfunc.config"
make -s -C "$tree" -j"$jobs" bzImage
cp "$tree/arch/x86/boot/bzImage" "$out/bzImage"
cp "$tree/System.map" "$out/System.map"
# vmlinux's ELF symbols for gdb (`gdb firmware/linux/vmlinux.sym`, then target remote): the section
# headers (NOBITS, with their addresses and sizes, so gdb maps an address to its symbol) and the
# symbol table; no code or data (gdb reads those from the target), no DWARF. The sections that keep
# file contents in a debug file (.notes, .comment, empty PROGBITS) would leave a 8 MiB hole before it.
objcopy --only-keep-debug "$tree/vmlinux" "$build/vmlinux.dbg"
objcopy --strip-debug --remove-section=.notes --remove-section=.comment --remove-section=.smp_locks \
  --remove-section=.data_nosave "$build/vmlinux.dbg" "$out/vmlinux.sym"
cp "$tree/.config" "$out/config"
python3 "$here/profile.py" "$tree/vmlinux" > "$out/linux.profile.json"
python3 "$here/profile.py" --isf "$tree/vmlinux" > "$out/linux.isf.json"

if [ $check = 1 ]; then
  rc=0
  for f in bzImage System.map vmlinux.sym config linux.profile.json linux.isf.json; do
    if cmp -s "$out/$f" "$here/$f"; then echo "same: $f"; else echo "DIFFERS: $f"; rc=1; fi
  done
  rm -rf "$out"; exit $rc
fi
echo "built: $out/bzImage ($(stat -c %s "$out/bzImage") bytes), System.map, vmlinux.sym, config, linux.profile.json, linux.isf.json"
