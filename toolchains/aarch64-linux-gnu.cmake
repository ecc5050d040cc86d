# Cross toolchain: Raspberry Pi OS / Debian 64-bit (arm64, aarch64-linux-gnu).
# Needs crossbuild-essential-arm64, qemu-user and a sysroot from `toolchains/make-sysroot.sh arm64`.
set(EDGEMON_CROSS_TRIPLET aarch64-linux-gnu)
set(EDGEMON_CROSS_DEBARCH arm64)
set(EDGEMON_CROSS_PROCESSOR aarch64)
set(EDGEMON_CROSS_QEMU qemu-aarch64)
include("${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake")
