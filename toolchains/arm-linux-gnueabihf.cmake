# Cross toolchain: Debian 32-bit armhf (arm-linux-gnueabihf: ARMv7-A, VFPv3-D16, Thumb-2).
# Runs on Raspberry Pi 2 and later; Pi 1 / Zero (ARMv6) need Raspbian's armhf, not Debian's.
# Needs crossbuild-essential-armhf, qemu-user and a sysroot from `toolchains/make-sysroot.sh armhf`.
set(EDGEMON_CROSS_TRIPLET arm-linux-gnueabihf)
set(EDGEMON_CROSS_DEBARCH armhf)
set(EDGEMON_CROSS_PROCESSOR armv7l)
set(EDGEMON_CROSS_QEMU qemu-arm)
include("${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake")
