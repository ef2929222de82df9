#!/bin/bash
# Builds the VMDesk demo guest: a tiny Linux made only of Debian packages.
#
#   resources/demo-guest/build.sh OUTDIR
#
# OUTDIR receives (atomically: built in a temporary dir next to it, then renamed):
#   vmlinuz      Debian's kernel (the linux-image-<abi>-amd64 package linux-image-amd64 depends on)
#   vmlinux      the same kernel uncompressed, booted directly by its PVH entry (QEMU's -kernel on
#                BIOS machines): no decompression in the guest, which under TCG takes half the boot.
#                Only when the kernel has one (CONFIG_PVH); its all-zero tail is cut off.
#   initrd.img   gzip'd newc cpio: busybox-static, busybox init + inittab, a few kernel modules
#   demo.iso     GRUB rescue ISO (BIOS and UEFI) that boots the same kernel and initramfs
#   VERSION      one line: "<recipe> <kernel release> linux-image=<ver> busybox=<ver>"
#
# The packages are fetched with `apt-get download` and unpacked with `dpkg-deb -x` into a work dir;
# nothing is installed on the host. The .debs are cached in $DEMO_GUEST_DEBS (default OUTDIR/../debs).
#
# Host requirements (Debian/Ubuntu):
#   apt-get install -y apt dpkg cpio gzip xorriso mtools grub-common grub-pc-bin grub-efi-amd64-bin
set -euo pipefail

RECIPE_VERSION=3
# Kernel command line of the direct boot and of the ISO: ttyS0 last, so /dev/console is the serial port.
CMDLINE='console=tty1 console=ttyS0,115200 quiet cryptomgr.notests'
# Kernel modules loaded at boot (with their dependencies), when they are modules rather than built in.
MODULES=(
  virtio virtio_ring virtio_pci virtio_pci_modern_dev virtio_pci_legacy_dev
  virtio_blk virtio_net net_failover failover virtio_console virtio_balloon virtio_scsi
  e1000 8139too 8139cp mii
  ahci libahci libata ata_piix sd_mod sr_mod cdrom
  crc16 crc32c_generic libcrc32c mbcache jbd2 ext4 isofs
  button evdev af_packet
)

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { printf '%s\n' "$*"; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
OUT=$(realpath -m -- "$1")
PARENT=$(dirname "$OUT")
DEBS=${DEMO_GUEST_DEBS:-$PARENT/debs}

# ---- host tools -------------------------------------------------------------------------------
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need apt-get apt
need apt-cache apt
need dpkg-deb dpkg
need cpio cpio
need gzip gzip
need xz xz-utils
need perl perl-base
need xorriso xorriso
need mformat mtools
need grub-mkrescue grub-common
[ -d /usr/lib/grub/i386-pc ] || missing+=(grub-pc-bin)
[ -d /usr/lib/grub/x86_64-efi ] || missing+=(grub-efi-amd64-bin)
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  printf 'build.sh: missing host tools; install them with:\n  apt-get install -y %s\n' "${missing[*]}" >&2
  exit 3
fi

mkdir -p "$PARENT" "$DEBS"
WORK=$(mktemp -d "$PARENT/.demo-guest-build.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- packages ---------------------------------------------------------------------------------
APT_UPDATED=0
apt_update() {
  [ "$APT_UPDATED" = 0 ] || return 1
  APT_UPDATED=1
  if [ "$(id -u)" != 0 ]; then
    log "apt package lists look missing or stale; run 'apt-get update' as root" >&2
    return 1
  fi
  log "running apt-get update (package lists missing or stale)"
  apt-get update -q 2>&1 | sed 's/^/  apt: /'
}

# The versioned kernel package (e.g. linux-image-6.1.0-56-amd64) linux-image-amd64 depends on.
resolve_kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1
}

cached_deb() { # newest cached .deb of package $1
  local f
  f=$(ls -1t "$DEBS/$1"_*.deb 2>/dev/null | head -n 1 || true)
  [ -n "$f" ] && [ -s "$f" ] && printf '%s\n' "$f"
}

fetch() { # fetch PACKAGE -> prints the .deb path
  local pkg=$1 f dl
  if f=$(cached_deb "$pkg"); then
    log "using cached $(basename "$f")" >&2
    printf '%s\n' "$f"
    return 0
  fi
  dl=$(mktemp -d "$WORK/dl.XXXXXX")
  # apt-get download drops privileges to _apt when run as root: let it write here.
  chmod 0755 "$WORK"; chmod 0777 "$dl"
  log "downloading $pkg" >&2
  if ! (cd "$dl" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "$pkg" >&2); then
    apt_update >&2 || die "apt-get download $pkg failed"
    (cd "$dl" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "$pkg" >&2) || die "apt-get download $pkg failed"
  fi
  f=$(ls -1 "$dl"/*.deb 2>/dev/null | head -n 1 || true)
  [ -n "$f" ] || die "apt-get download $pkg produced no .deb"
  mv -f "$f" "$DEBS/"
  printf '%s\n' "$DEBS/$(basename "$f")"
}

KPKG=$(resolve_kernel_package || true)
if [ -z "$KPKG" ]; then
  apt_update || true
  KPKG=$(resolve_kernel_package || true)
fi
if [ -z "$KPKG" ]; then
  # Offline with no package lists: fall back to a kernel package cached by an earlier build.
  f=$(ls -1t "$DEBS"/linux-image-[0-9]*-amd64_*.deb 2>/dev/null | head -n 1 || true)
  [ -n "$f" ] || die "cannot resolve the kernel package of linux-image-amd64 (apt-cache depends linux-image-amd64)"
  KPKG=$(basename "$f"); KPKG=${KPKG%%_*}
fi
log "kernel package: $KPKG"

KDEB=$(fetch "$KPKG")
BDEB=$(fetch busybox-static)

log "unpacking $(basename "$KDEB")"
dpkg-deb -x "$KDEB" "$WORK/kernel"
dpkg-deb -x "$BDEB" "$WORK/busybox"
KVERSION=$(dpkg-deb -f "$KDEB" Version)
BVERSION=$(dpkg-deb -f "$BDEB" Version)

KREL=$(ls -1 "$WORK/kernel/lib/modules" | head -n 1)
[ -n "$KREL" ] || die "no lib/modules/<release> in $KDEB"
VMLINUZ="$WORK/kernel/boot/vmlinuz-$KREL"
KCONFIG="$WORK/kernel/boot/config-$KREL"
[ -f "$VMLINUZ" ] || die "no boot/vmlinuz-$KREL in $KDEB"
[ -f "$KCONFIG" ] || die "no boot/config-$KREL in $KDEB"
BUSYBOX="$WORK/busybox/bin/busybox"
[ -x "$BUSYBOX" ] || die "no bin/busybox in $BDEB"
log "kernel $KREL ($KVERSION), busybox $BVERSION"

# ---- initramfs tree ---------------------------------------------------------------------------
ROOT="$WORK/root"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,mnt,var,lib/modules/"$KREL"}
ln -s ../run "$ROOT/var/run"
ln -s ../run/log "$ROOT/var/log"
chmod 1777 "$ROOT/tmp"
chmod 0700 "$ROOT/root"

cp "$BUSYBOX" "$ROOT/bin/busybox"
# Applet symlinks where busybox itself would install them (busybox --list-full gives the paths).
while read -r applet; do
  [ "$applet" = bin/busybox ] && continue
  [ -e "$ROOT/$applet" ] || [ -L "$ROOT/$applet" ] && continue
  case $applet in
    */*/*) ln -s ../../bin/busybox "$ROOT/$applet" ;;
    */*) ln -s ../bin/busybox "$ROOT/$applet" ;;
  esac
done < <("$BUSYBOX" --list-full)
[ -L "$ROOT/sbin/init" ] && [ -L "$ROOT/bin/sh" ] || die "busybox lacks init or sh applets"

cp -a "$HERE/rootfs/." "$ROOT/"
chmod 0755 "$ROOT/init" "$ROOT/etc/init.d/"* "$ROOT/etc/udhcpc.script" "$ROOT/etc/acpi/PWRF/00000080"
chmod 0644 "$ROOT/etc/inittab" "$ROOT/etc/profile" "$ROOT/etc/shrc" "$ROOT/etc/passwd" "$ROOT/etc/group" \
  "$ROOT/etc/hostname" "$ROOT/etc/hosts" "$ROOT/etc/shells"
chmod 0600 "$ROOT/etc/shadow"

# ---- kernel modules ---------------------------------------------------------------------------
KMOD="$WORK/kernel/lib/modules/$KREL"
declare -A MODPATH=() SEEN=()
while IFS= read -r rel; do
  name=${rel##*/}; name=${name%%.ko*}; name=${name//-/_}
  MODPATH[$name]=$rel
done < <(cd "$KMOD" && find kernel \( -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz' \))
declare -A BUILTIN=()
if [ -f "$KMOD/modules.builtin" ]; then
  while IFS= read -r rel; do
    name=${rel##*/}; name=${name%.ko}; BUILTIN[${name//-/_}]=1
  done <"$KMOD/modules.builtin"
fi
is_builtin() { [ -n "${BUILTIN[$1]:-}" ]; }

# Copies one module (decompressed: busybox insmod reads plain .ko) and prints its dependencies.
stage_module() { # stage_module NAME -> prints the staged relative path
  local name=$1 rel=${MODPATH[$1]} out
  out=${rel%.xz}; out=${out%.zst}; out=${out%.gz}
  mkdir -p "$ROOT/lib/modules/$KREL/$(dirname "$out")"
  case $rel in
    *.xz) xz -dc "$KMOD/$rel" >"$ROOT/lib/modules/$KREL/$out" ;;
    *.zst) zstd -qdc "$KMOD/$rel" >"$ROOT/lib/modules/$KREL/$out" ;;
    *.gz) gzip -dc "$KMOD/$rel" >"$ROOT/lib/modules/$KREL/$out" ;;
    *) cp "$KMOD/$rel" "$ROOT/lib/modules/$KREL/$out" ;;
  esac
  printf '%s\n' "$out"
}
module_deps() { # the depends= field of the module's .modinfo
  tr '\0' '\n' <"$ROOT/lib/modules/$KREL/$1" | sed -n 's/^depends=//p' | head -n 1 | tr ',' ' '
}
ORDER=()
visit() { # depth-first: dependencies before the module
  local name=${1//-/_} rel dep
  [ -z "${SEEN[$name]:-}" ] || return 0
  SEEN[$name]=1
  if [ -z "${MODPATH[$name]:-}" ]; then
    if is_builtin "$name"; then return 0; fi
    die "kernel module $name is neither a module nor built into $KREL"
  fi
  rel=$(stage_module "$name")
  for dep in $(module_deps "$rel"); do visit "$dep"; done
  ORDER+=("$rel")
}
for m in "${MODULES[@]}"; do
  n=${m//-/_}
  if [ -z "${MODPATH[$n]:-}" ] && is_builtin "$n"; then log "module $n: built in"; continue; fi
  # af_packet is named after its config (CONFIG_PACKET); it is usually built in.
  if [ "$n" = af_packet ] && grep -q '^CONFIG_PACKET=y' "$KCONFIG"; then log "module af_packet: built in"; continue; fi
  visit "$n"
done
printf '%s\n' "${ORDER[@]}" >"$ROOT/etc/modules.list"
cp "$KMOD/modules.builtin" "$KMOD/modules.order" "$ROOT/lib/modules/$KREL/" 2>/dev/null || true
# modules.dep/alias/symbols for busybox modprobe (the kernel's request_module and the user).
"$BUSYBOX" depmod -b "$ROOT" "$KREL"
log "modules (${#ORDER[@]}): $(printf '%s\n' "${ORDER[@]}" | sed 's|.*/||; s|\.ko$||' | tr '\n' ' ')"

# ---- initrd.img -------------------------------------------------------------------------------
STAGE="$WORK/out"
mkdir -p "$STAGE"
newc() { # newc NAME MODE(octal) RDEVMAJOR RDEVMINOR: one data-less newc entry
  local name=$1 mode=$(( 8#$2 )) size=$(( ${#1} + 1 )) pad
  printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
    1 "$mode" 0 0 1 0 0 0 0 "$3" "$4" "$size" 0
  printf '%s\0' "$name"
  pad=$(( (4 - (110 + size) % 4) % 4 ))
  head -c "$pad" /dev/zero
}
{
  (cd "$ROOT" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0)
  # /dev/console without needing root (mknod) on the host: a second archive with the device node.
  newc dev/console 020600 5 1
  newc TRAILER!!! 0 0 0
} | gzip -9n >"$STAGE/initrd.img"
cp "$VMLINUZ" "$STAGE/vmlinuz"

# ---- vmlinux (PVH) ----------------------------------------------------------------------------
# The bzImage holds the kernel ELF compressed; QEMU boots that ELF by its PVH entry (the Xen note
# PHYS32_ENTRY). Its last segment ends in ~24 MiB of zeros (.bss, .brk, .init.scratch) that the
# loader fills anyway: they are cut off (p_filesz shortened, the unneeded section headers dropped),
# with perl, which every Debian system has (perl-base is essential).
extract_pvh() { # extract_pvh BZIMAGE CONFIG OUT: 0 when OUT is a PVH kernel
  local magic tool offset
  grep -q '^CONFIG_PVH=y' "$2" || { log "no vmlinux: $KREL has no PVH entry (CONFIG_PVH)"; return 1; }
  if grep -q '^CONFIG_KERNEL_XZ=y' "$2"; then magic='\xfd7zXZ\x00'; tool='xz --single-stream -dc'
  elif grep -q '^CONFIG_KERNEL_ZSTD=y' "$2"; then magic='\x28\xb5\x2f\xfd'; tool='zstd -qdc'
  elif grep -q '^CONFIG_KERNEL_GZIP=y' "$2"; then magic='\x1f\x8b\x08'; tool='gzip -dc'
  else log "no vmlinux: $KREL is compressed in a way this recipe does not unpack"; return 1; fi
  offset=$(LC_ALL=C grep -obUaP "$magic" "$1" | head -n 1 | cut -d: -f1)
  [ -n "$offset" ] || { log "no vmlinux: no compressed payload found in $(basename "$1")"; return 1; }
  # zstd and gzip complain about the bytes after their stream; what they wrote before is checked below.
  tail -c +"$((offset + 1))" "$1" | $tool >"$3" 2>/dev/null || true
  perl -e '
    use strict; use warnings;
    my $f = shift; open(my $h, "+<:raw", $f) or die "open: $!\n";
    read($h, my $eh, 64) == 64 or die "short ELF header\n";
    my ($mag, $class, $endian) = unpack("a4 C C", $eh);
    die "not a 64-bit little-endian ELF\n" unless $mag eq "\x7fELF" && $class == 2 && $endian == 1;
    my $phoff = unpack("Q<", substr($eh, 32, 8));
    my ($phentsize, $phnum) = unpack("v v", substr($eh, 54, 4));
    my (@ph, $pvh);
    for my $i (0 .. $phnum - 1) {
      seek($h, $phoff + $i * $phentsize, 0); read($h, my $p, 56) == 56 or die "short program header\n";
      my ($type, $flags, $off, $va, $pa, $filesz, $memsz) = unpack("V V Q< Q< Q< Q< Q<", $p);
      push @ph, { at => $phoff + $i * $phentsize, type => $type, off => $off, filesz => $filesz };
      next unless $type == 4;    # PT_NOTE: name, desc and type of each note, 4-byte aligned
      seek($h, $off, 0); read($h, my $notes, $filesz) == $filesz or die "short note\n";
      for (my $n = 0; $n + 12 <= length $notes;) {
        my ($namesz, $descsz, $ntype) = unpack("V V V", substr($notes, $n, 12));
        my $name = substr($notes, $n + 12, $namesz);
        $pvh = 1 if $name eq "Xen\0" && $ntype == 18;    # XEN_ELFNOTE_PHYS32_ENTRY
        $n += 12 + (($namesz + 3) & ~3) + (($descsz + 3) & ~3);
      }
    }
    die "no PVH entry note\n" unless $pvh;
    my ($last) = sort { $b->{off} + $b->{filesz} <=> $a->{off} + $a->{filesz} } grep { $_->{type} == 1 } @ph;
    seek($h, $last->{off}, 0); read($h, my $data, $last->{filesz}) == $last->{filesz} or die "short segment\n";
    (my $kept = $data) =~ s/\0+\z//;
    my $end = 0;
    for (@ph) { my $e = $_ == $last ? $_->{off} + length $kept : $_->{off} + $_->{filesz}; $end = $e if $e > $end; }
    seek($h, $last->{at} + 32, 0); print $h pack("Q<", length $kept);    # p_filesz; p_memsz stays
    seek($h, 40, 0); print $h pack("Q<", 0);                              # e_shoff
    seek($h, 60, 0); print $h pack("v v", 0, 0);                          # e_shnum, e_shstrndx
    close($h) or die "close: $!\n"; truncate($f, $end) or die "truncate: $!\n";
  ' "$3" || { log "no vmlinux: the kernel inside $(basename "$1") is not a PVH ELF"; rm -f "$3"; return 1; }
}
extract_pvh "$VMLINUZ" "$KCONFIG" "$STAGE/vmlinux" || true

# ---- demo.iso ---------------------------------------------------------------------------------
ISOROOT="$WORK/iso"
mkdir -p "$ISOROOT/boot/grub"
cp "$STAGE/vmlinuz" "$STAGE/initrd.img" "$ISOROOT/boot/"
sed "s|@CMDLINE@|$CMDLINE|" "$HERE/grub.cfg" >"$ISOROOT/boot/grub/grub.cfg"
log "making demo.iso with grub-mkrescue (BIOS + UEFI)"
GRUB_LOG="$WORK/grub-mkrescue.log"
# All GRUB modules (the EFI image probes every partition map, and efi_gop/video_* give the kernel
# a framebuffer under UEFI), but no locales, fonts or themes.
if ! grub-mkrescue --locales= --fonts= --themes= \
  -o "$STAGE/demo.iso" "$ISOROOT" -- -volid VMDESK_DEMO >"$GRUB_LOG" 2>&1; then
  cat "$GRUB_LOG" >&2
  die "grub-mkrescue failed"
fi

printf '%s %s linux-image=%s busybox=%s\n' "$RECIPE_VERSION" "$KREL" "$KVERSION" "$BVERSION" >"$STAGE/VERSION"

# ---- publish atomically -----------------------------------------------------------------------
if [ -e "$OUT" ]; then
  mv -T "$OUT" "$WORK/previous"
fi
mv -T "$STAGE" "$OUT"
log "demo guest: $(cat "$OUT/VERSION")"
for f in vmlinuz vmlinux initrd.img demo.iso; do
  if [ -e "$OUT/$f" ]; then log "  $OUT/$f $(stat -c %s "$OUT/$f") bytes"; fi
done
