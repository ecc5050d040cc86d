# Shared logic of edgemon's cross toolchain files (aarch64-linux-gnu.cmake,
# arm-linux-gnueabihf.cmake). The including file sets, before include():
#   EDGEMON_CROSS_TRIPLET    GNU triplet, e.g. aarch64-linux-gnu (Debian's cross gcc prefix)
#   EDGEMON_CROSS_DEBARCH    Debian architecture, e.g. arm64
#   EDGEMON_CROSS_PROCESSOR  CMAKE_SYSTEM_PROCESSOR, e.g. aarch64
#   EDGEMON_CROSS_QEMU       qemu-user binary, e.g. qemu-aarch64
#
# Compilers: Debian's crossbuild-essential-<arch>. Libraries and headers: a private Debian sysroot
# made by toolchains/make-sysroot.sh (nothing is taken from the host's /usr). Tests run under
# qemu-user with -L <sysroot>, so a cross-built test loads the sysroot's libc/libstdc++ — the ones
# it was linked against (pointing -L anywhere else, e.g. /usr/<triplet>, can hang in
# pthread_create).
#
# Sysroot location, first match wins: -DEDGEMON_SYSROOT=..., $EDGEMON_SYSROOT,
# /var/cache/edgemon/sysroot/<debian-arch>.
cmake_minimum_required(VERSION 3.25)

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${EDGEMON_CROSS_PROCESSOR})
set(CMAKE_LIBRARY_ARCHITECTURE ${EDGEMON_CROSS_TRIPLET})

if(NOT EDGEMON_SYSROOT)
  if(DEFINED ENV{EDGEMON_SYSROOT} AND NOT "$ENV{EDGEMON_SYSROOT}" STREQUAL "")
    set(_edgemon_sysroot "$ENV{EDGEMON_SYSROOT}")
  else()
    set(_edgemon_sysroot "/var/cache/edgemon/sysroot/${EDGEMON_CROSS_DEBARCH}")
  endif()
  set(EDGEMON_SYSROOT "${_edgemon_sysroot}" CACHE PATH
      "Debian ${EDGEMON_CROSS_DEBARCH} sysroot (toolchains/make-sysroot.sh ${EDGEMON_CROSS_DEBARCH})")
endif()
if(NOT EXISTS "${EDGEMON_SYSROOT}/usr/lib/${EDGEMON_CROSS_TRIPLET}/libc.so")
  message(FATAL_ERROR "No ${EDGEMON_CROSS_DEBARCH} sysroot at '${EDGEMON_SYSROOT}'. Make one with:\n"
                      "  toolchains/make-sysroot.sh ${EDGEMON_CROSS_DEBARCH} ${EDGEMON_SYSROOT}")
endif()
# try_compile() projects re-read this file without the cache; hand the path on.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES EDGEMON_SYSROOT)

set(CMAKE_SYSROOT "${EDGEMON_SYSROOT}")

foreach(_lang C CXX)
  set(_tool gcc)
  if(_lang STREQUAL "CXX")
    set(_tool g++)
  endif()
  find_program(_edgemon_${_lang} NAMES ${EDGEMON_CROSS_TRIPLET}-${_tool} NO_CACHE
               NO_CMAKE_FIND_ROOT_PATH REQUIRED)
  set(CMAKE_${_lang}_COMPILER "${_edgemon_${_lang}}")
endforeach()

# Search only the sysroot for libraries, headers and packages (CMake re-roots /usr, so
# <sysroot>/usr/lib/<triplet>/cmake, <sysroot>/usr/lib/cmake and <sysroot>/usr/share/cmake are
# all searched); programs (protoc, nanopb generator, ...) come from the host.
set(CMAKE_FIND_ROOT_PATH "${EDGEMON_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (pkgconf) from the host, reading only the sysroot's .pc files and prefixing the
# paths it prints with the sysroot.
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${EDGEMON_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR}
    "${EDGEMON_SYSROOT}/usr/lib/${EDGEMON_CROSS_TRIPLET}/pkgconfig:${EDGEMON_SYSROOT}/usr/lib/pkgconfig:${EDGEMON_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# add_test(NAME x COMMAND <executable target>) and gtest_discover_tests() prefix this.
find_program(_edgemon_qemu NAMES ${EDGEMON_CROSS_QEMU} NO_CACHE NO_CMAKE_FIND_ROOT_PATH)
if(_edgemon_qemu)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${_edgemon_qemu};-L;${EDGEMON_SYSROOT}")
else()
  message(WARNING "${EDGEMON_CROSS_QEMU} not found (Debian package qemu-user): tests cannot run")
endif()

# CPack's DEB generator would otherwise ask the host's dpkg (amd64).
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${EDGEMON_CROSS_DEBARCH})
