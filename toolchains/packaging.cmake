# Debian package: one `edgemon` .deb per architecture (amd64, arm64, armhf), made with CPack.
# Included at the end of the root CMakeLists.txt, after every install() rule of the project.
#
#   cmake --preset host && cmake --build build/host --parallel 2
#   cd build/host && cpack -G DEB                  # -> edgemon_<version>_<arch>.deb
#   cmake --preset rpi-arm64 && cmake --build build/rpi-arm64 && (cd build/rpi-arm64 && cpack -G DEB)
#
# Contents: /usr/bin/edgemon-agent and edgemon-gateway (their install(TARGETS) rules),
# /usr/share/edgemon/web (web/CMakeLists.txt, when the dashboard is built; cross builds can take
# a host-built one with -DEDGEMON_PACKAGE_WEB_DIR=<dir>), the systemd units in
# /lib/systemd/system/, and /etc/edgemon/{agent,gateway}.toml as conffiles. Maintainer scripts:
# toolchains/debian/{postinst,prerm,postrm}.
#
# The files outside the /usr prefix (/etc, /lib/systemd) belong to the install component
# `edgemon-deb`, which is EXCLUDE_FROM_ALL: a plain `cmake --install build/host --prefix <dir>`
# never writes to the real /etc; only CPack (and `cmake --install --component edgemon-deb` with
# DESTDIR) installs them.

if(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux" OR NOT PROJECT_IS_TOP_LEVEL)
  return()
endif()

set(_edgemon_src "${PROJECT_SOURCE_DIR}")

# --- Debian architecture of the target (not of the build machine) -----------------------------
# dpkg --print-architecture describes the build machine, which is wrong when cross-compiling; map
# the compiler's target instead (multiarch triplet first, then CMAKE_SYSTEM_PROCESSOR).
function(_edgemon_deb_arch out)
  set(_target "${CMAKE_CXX_LIBRARY_ARCHITECTURE}")
  if(NOT _target)
    set(_target "${CMAKE_SYSTEM_PROCESSOR}")
  endif()
  string(TOLOWER "${_target}" _target)
  if(_target MATCHES "^(aarch64|arm64)")
    set(_arch arm64)
  elseif(_target MATCHES "^arm")  # arm-linux-gnueabihf, armv7l, armv6l, ...
    set(_arch armhf)
  elseif(_target MATCHES "^(x86_64|amd64)")
    set(_arch amd64)
  else()
    message(FATAL_ERROR "packaging: no Debian architecture known for target '${_target}' "
                        "(CMAKE_CXX_LIBRARY_ARCHITECTURE='${CMAKE_CXX_LIBRARY_ARCHITECTURE}', "
                        "CMAKE_SYSTEM_PROCESSOR='${CMAKE_SYSTEM_PROCESSOR}'); set -DEDGEMON_DEB_ARCH=...")
  endif()
  set(${out} "${_arch}" PARENT_SCOPE)
endfunction()

set(EDGEMON_DEB_ARCH "" CACHE STRING "Debian architecture of the package (empty: derived from the compiler target)")
if(EDGEMON_DEB_ARCH)
  set(_edgemon_deb_arch "${EDGEMON_DEB_ARCH}")
else()
  _edgemon_deb_arch(_edgemon_deb_arch)
endif()

# --- Files outside /usr --------------------------------------------------------------------------
install(FILES "${_edgemon_src}/firmware/dist/edgemon-agent.service"
              "${_edgemon_src}/gateway/dist/edgemon-gateway.service"
        DESTINATION /lib/systemd/system
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
        COMPONENT edgemon-deb EXCLUDE_FROM_ALL)
# 0640: the configs hold broker passwords; postinst gives them to group edgemon.
install(FILES "${_edgemon_src}/firmware/dist/agent.toml"
              "${_edgemon_src}/gateway/dist/gateway.toml"
        DESTINATION /etc/edgemon
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
        COMPONENT edgemon-deb EXCLUDE_FROM_ALL)

# Broker tooling: the provisioning command and a test CA maker in /usr/sbin; the locked-down
# Mosquitto config as a template in /usr/share/edgemon/mosquitto (installing it into
# /etc/mosquitto/conf.d closes anonymous access on the host's broker, so the operator does that
# deliberately: docs/deployment.md).
install(PROGRAMS "${_edgemon_src}/gateway/dist/edgemon-provision" "${_edgemon_src}/gateway/dist/edgemon-make-test-ca"
        DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES "${_edgemon_src}/gateway/dist/mosquitto/edgemon.conf" "${_edgemon_src}/gateway/dist/mosquitto/acl"
        DESTINATION ${CMAKE_INSTALL_DATADIR}/edgemon/mosquitto)

# The dashboard is architecture independent; cross builds do not build it (no node for the
# target), so they can package one built on the host.
set(EDGEMON_PACKAGE_WEB_DIR "" CACHE PATH
    "Built dashboard (index.html + assets/) to package when this build does not build web/")
if(NOT TARGET edgemon_web)
  if(EDGEMON_PACKAGE_WEB_DIR)
    if(NOT EXISTS "${EDGEMON_PACKAGE_WEB_DIR}/index.html")
      message(FATAL_ERROR "packaging: EDGEMON_PACKAGE_WEB_DIR='${EDGEMON_PACKAGE_WEB_DIR}' has no index.html")
    endif()
    install(DIRECTORY "${EDGEMON_PACKAGE_WEB_DIR}/" DESTINATION ${CMAKE_INSTALL_DATADIR}/edgemon/web)
  else()
    message(STATUS "packaging: the dashboard is not built here; the .deb will lack "
                   "/usr/share/edgemon/web (set EDGEMON_PACKAGE_WEB_DIR to a host-built web/dist)")
  endif()
endif()

# --- Maintainer scripts and conffiles ------------------------------------------------------------
set(_edgemon_conffiles "${PROJECT_BINARY_DIR}/packaging/conffiles")
file(WRITE "${_edgemon_conffiles}" "/etc/edgemon/agent.toml\n/etc/edgemon/gateway.toml\n")

# --- CPack ---------------------------------------------------------------------------------------
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "edgemon")
set(CPACK_PACKAGE_VENDOR "edgemon")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "edgemon maintainers <edgemon@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_HOMEPAGE_URL "${PROJECT_HOMEPAGE_URL}")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_PACKAGE_DIRECTORY "${PROJECT_BINARY_DIR}")
set(CPACK_STRIP_FILES ON)  # uses CMAKE_STRIP, i.e. the cross strip when cross-compiling
set(CPACK_WARN_ON_ABSOLUTE_INSTALL_DESTINATION OFF)

# Everything the project installs by default, plus the /etc and /lib/systemd files.
set(CPACK_INSTALL_CMAKE_PROJECTS
    "${PROJECT_BINARY_DIR};${PROJECT_NAME};ALL;/"
    "${PROJECT_BINARY_DIR};${PROJECT_NAME};edgemon-deb;/")

set(CPACK_DEBIAN_PACKAGE_NAME "edgemon")
set(CPACK_DEBIAN_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE "${_edgemon_deb_arch}")
set(CPACK_DEBIAN_FILE_NAME "edgemon_${PROJECT_VERSION}_${_edgemon_deb_arch}.deb")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${PROJECT_HOMEPAGE_URL}")
# Synopsis: CPACK_PACKAGE_DESCRIPTION_SUMMARY; this is the extended description below it.
string(CONCAT CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "edgemon-agent runs on each board: it pings targets and reads the board's sensors (CPU, "
  "memory, disks, network, temperatures), publishing Sparkplug B telemetry over MQTT.\n"
  "edgemon-gateway subscribes, keeps history in SQLite, raises alerts and serves a web "
  "dashboard, REST API and WebSocket live feed.\n"
  "Neither service starts on installation: set the broker credentials in /etc/edgemon/ first.")

# Explicit, not dpkg-shlibdeps: for cross builds the target libraries live in a private sysroot
# that dpkg's database does not know. One package per DT_NEEDED soname of the two binaries
# (objdump -p ... | grep NEEDED; dpkg -S), versions from their shlibs/symbols files on Debian 12:
#   libc.so.6 libm.so.6 -> libc6          libstdc++.so.6 -> libstdc++6   libgcc_s.so.1 -> libgcc-s1
#   libpaho-mqttpp3.so.1 -> libpaho-mqttpp3-1   libpaho-mqtt3as.so.1 -> libpaho-mqtt1.3
#   libtomlplusplus.so.3 -> libtomlplusplus3    libsqlite3.so.0 -> libsqlite3-0
#   libsystemd.so.0 -> libsystemd0              libprotobuf-c.so.1 -> libprotobuf-c1 (Sparkplug codec)
#   libcurl.so.4 -> libcurl4 (the gateway's webhook/e-mail notifications)
#   libcrypto.so.3 -> libssl3 (the gateway's password hashes, tokens and sessions: edgemon_auth) Keep this
# list in step with new target_link_libraries (tests/packaging checks it against NEEDED).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libc6 (>= 2.36), libstdc++6 (>= 12), libgcc-s1, libpaho-mqttpp3-1 (>= 1.2.0), libpaho-mqtt1.3, libtomlplusplus3 (>= 3.2.0), libprotobuf-c1 (>= 1.0.1), libsqlite3-0, libsystemd0, libcurl4, libssl3")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "mosquitto")

set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${_edgemon_conffiles}"
    "${_edgemon_src}/toolchains/debian/postinst"
    "${_edgemon_src}/toolchains/debian/prerm"
    "${_edgemon_src}/toolchains/debian/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)  # scripts 0755, conffiles 0644

include(CPack)
