# Debian 12 source packages, fetched and unpacked at build time through a private apt
# configuration that lives in the build tree (the system's /etc/apt is only read, never changed).
#
#   berth_debian_source(NAME <source-package> OUT_DIR <var> [STAMP <var>])
#
# sets <var> to the directory the package is unpacked into (dpkg-source -x, Debian patches
# applied) and STAMP's <var> to a file that the build of the package must DEPEND on; the unpack
# itself happens when that stamp is built. The exact version fetched and the .dsc's sha256 are
# written to ${CMAKE_BINARY_DIR}/rootfs/sources/<package>.version for the image's build manifest.
# The cache variable BERTH_<PACKAGE>_VERSION pins a version (empty: the newest in bookworm,
# bookworm-updates and bookworm-security); changing it re-fetches.
#
# This file is also the fetch script: the custom command runs it with `cmake -P`.

cmake_minimum_required(VERSION 3.25)

if(NOT CMAKE_SCRIPT_MODE_FILE)
  include_guard(GLOBAL)
  set(BERTH_DEBIAN_MIRROR "http://deb.debian.org/debian" CACHE STRING
      "Debian archive that source packages are fetched from")
  set(BERTH_DEBIAN_SECURITY_MIRROR "http://deb.debian.org/debian-security" CACHE STRING
      "Debian security archive that source packages are fetched from")
  set(BERTH_DEBIAN_SUITE "bookworm" CACHE STRING "Debian suite of the source packages")
  set(BERTH_DOWNLOAD_CACHE "$ENV{HOME}/.cache/berth/debian" CACHE PATH
      "Where fetched Debian packages and sources are kept, so that a rebuild (a fresh build tree, a new clone) works without the network")
  set(_BERTH_DEBIAN_SOURCE_SCRIPT "${CMAKE_CURRENT_LIST_FILE}")
  # Ninja pool for the `make -jN` builds of these packages: one at a time, each using every core.
  set_property(GLOBAL APPEND PROPERTY JOB_POOLS berth_debian_make=1)

  function(berth_debian_source)
    cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;OUT_DIR;STAMP" "")
    if(NOT arg_NAME OR NOT arg_OUT_DIR)
      message(FATAL_ERROR "berth_debian_source: NAME and OUT_DIR are required")
    endif()
    # Not REQUIRED: these targets are not in ALL, so a machine without the tools still configures.
    find_program(BERTH_APT_GET apt-get)
    find_program(BERTH_DPKG_SOURCE dpkg-source)

    string(TOUPPER "${arg_NAME}" upper)
    string(MAKE_C_IDENTIFIER "${upper}" upper)
    set(BERTH_${upper}_VERSION "" CACHE STRING
        "Debian source version of ${arg_NAME} to build (empty: newest available)")

    set(top "${CMAKE_BINARY_DIR}/debian-src")
    set(work "${top}/${arg_NAME}")
    set(stamp "${work}/unpacked.stamp")
    # The request (version pin, mirrors) is a file so that changing it re-runs the fetch.
    set(request "${work}/request.txt")
    file(CONFIGURE OUTPUT "${request}" CONTENT
"package=${arg_NAME}
version=${BERTH_${upper}_VERSION}
mirror=${BERTH_DEBIAN_MIRROR}
security=${BERTH_DEBIAN_SECURITY_MIRROR}
suite=${BERTH_DEBIAN_SUITE}
")
    set(version_file "${CMAKE_BINARY_DIR}/rootfs/sources/${arg_NAME}.version")
    if(NOT BERTH_APT_GET OR NOT BERTH_DPKG_SOURCE)
      add_custom_command(
        OUTPUT "${stamp}" "${version_file}"
        COMMAND "${CMAKE_COMMAND}" -E echo "${arg_NAME}: apt-get and dpkg-source (package dpkg-dev) are needed"
        COMMAND "${CMAKE_COMMAND}" -E false
        VERBATIM)
    else()
      add_custom_command(
        OUTPUT "${stamp}" "${version_file}"
        COMMAND "${CMAKE_COMMAND}"
                "-DPKG=${arg_NAME}"
                "-DVERSION=${BERTH_${upper}_VERSION}"
                "-DTOP=${top}"
                "-DMIRROR=${BERTH_DEBIAN_MIRROR}"
                "-DSECURITY_MIRROR=${BERTH_DEBIAN_SECURITY_MIRROR}"
                "-DSUITE=${BERTH_DEBIAN_SUITE}"
                "-DAPT_GET=${BERTH_APT_GET}"
                "-DDPKG_SOURCE=${BERTH_DPKG_SOURCE}"
                "-DVERSION_FILE=${version_file}"
                "-DCACHE=${BERTH_DOWNLOAD_CACHE}"
                -P "${_BERTH_DEBIAN_SOURCE_SCRIPT}"
        DEPENDS "${request}" "${_BERTH_DEBIAN_SOURCE_SCRIPT}"
        COMMENT "Fetching and unpacking Debian source package ${arg_NAME}"
        VERBATIM)
    endif()
    set(${arg_OUT_DIR} "${work}/src" PARENT_SCOPE)
    if(arg_STAMP)
      set(${arg_STAMP} "${stamp}" PARENT_SCOPE)
    endif()
  endfunction()
  return()
endif()

# ---- script mode: cmake -DPKG=... -DTOP=... -P DebianSource.cmake ---------------------------

foreach(v PKG TOP MIRROR SECURITY_MIRROR SUITE APT_GET DPKG_SOURCE VERSION_FILE CACHE)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "DebianSource.cmake: -D${v}= is required")
  endif()
endforeach()

set(apt "${TOP}/apt")
set(work "${TOP}/${PKG}")
file(MAKE_DIRECTORY "${apt}/etc/sources.list.d" "${apt}/etc/preferences.d"
     "${apt}/lists/partial" "${apt}/cache/archives/partial" "${work}")

# Only deb-src entries, only Debian's archive key; system preferences and sources are not used.
set(key "/usr/share/keyrings/debian-archive-keyring.gpg")
file(CONFIGURE OUTPUT "${apt}/etc/sources.list" CONTENT
"deb-src [signed-by=${key}] ${MIRROR} ${SUITE} main
deb-src [signed-by=${key}] ${MIRROR} ${SUITE}-updates main
deb-src [signed-by=${key}] ${SECURITY_MIRROR} ${SUITE}-security main
")
file(CONFIGURE OUTPUT "${apt}/apt.conf" CONTENT
"Dir::Etc::sourcelist \"${apt}/etc/sources.list\";
Dir::Etc::sourceparts \"${apt}/etc/sources.list.d\";
Dir::Etc::preferences \"${apt}/etc/preferences\";
Dir::Etc::preferencesparts \"${apt}/etc/preferences.d\";
Dir::State \"${apt}/state\";
Dir::State::lists \"${apt}/lists\";
Dir::Cache \"${apt}/cache\";
Dir::Cache::pkgcache \"\";
Dir::Cache::srcpkgcache \"\";
APT::Sandbox::User \"root\";
Acquire::Languages \"none\";
Acquire::Retries \"3\";
")
set(ENV{APT_CONFIG} "${apt}/apt.conf")
set(ENV{LC_ALL} "C")

# One apt at a time on the private lists (busybox and dropbear may be fetched in parallel).
file(LOCK "${apt}/berth.lock" GUARD PROCESS TIMEOUT 1800)

function(apt_update result)
  message(STATUS "apt-get update (private source lists in ${apt})")
  execute_process(COMMAND "${APT_GET}" -q update RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE out)
  # apt-get update exits 0 when an index could not be fetched; its warnings say so.
  if(rc EQUAL 0 AND NOT out MATCHES "(^|\n)(E: |W: Failed to fetch|W: Some index files failed)")
    file(TOUCH "${apt}/update.stamp")
  else()
    set(rc 1)
  endif()
  set(${result} "${rc}" PARENT_SCOPE)
  set(apt_out "${out}" PARENT_SCOPE)
endfunction()

set(want "${PKG}")
if(DEFINED VERSION AND NOT "${VERSION}" STREQUAL "")
  set(want "${PKG}=${VERSION}")
endif()

set(dl "${work}/download")
function(apt_source result)
  file(REMOVE_RECURSE "${dl}")
  file(MAKE_DIRECTORY "${dl}")
  execute_process(COMMAND "${APT_GET}" -q source --download-only
                          -o APT::Get::Only-Source=true "${want}"
                  WORKING_DIRECTORY "${dl}" RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE out)
  set(${result} "${rc}" PARENT_SCOPE)
  set(apt_out "${out}" PARENT_SCOPE)
endfunction()

set(rc 0)
if(NOT EXISTS "${apt}/update.stamp")
  apt_update(rc)
endif()
if(rc EQUAL 0)
  apt_source(rc)
  if(NOT rc EQUAL 0)
    # Lists may be stale (the version moved on, or the pin is newer): refresh once and retry.
    apt_update(rc)
    if(rc EQUAL 0)
      apt_source(rc)
    endif()
  endif()
endif()

# The download cache (BERTH_DOWNLOAD_CACHE): a fetched source package is kept there, and used when
# the archive cannot be reached. Its files came from apt, which checked them against the signed
# Sources index; dpkg-source checks them against the .dsc again below.
set(cached "${CACHE}/${PKG}")
if(rc EQUAL 0)
  file(REMOVE_RECURSE "${cached}.new")
  file(COPY "${dl}/" DESTINATION "${cached}.new")
  file(REMOVE_RECURSE "${cached}")
  file(RENAME "${cached}.new" "${cached}")
else()
  file(GLOB cached_dsc "${cached}/*.dsc")
  set(usable FALSE)
  if(cached_dsc)
    file(STRINGS "${cached_dsc}" cached_version REGEX "^Version: ")
    string(REGEX REPLACE "^Version: *" "" cached_version "${cached_version}")
    if("${VERSION}" STREQUAL "" OR "${VERSION}" STREQUAL "${cached_version}")
      set(usable TRUE)
    endif()
  endif()
  if(NOT usable)
    message(FATAL_ERROR "apt-get source ${want} failed, and ${cached} holds no copy of it:\n${apt_out}")
  endif()
  message(WARNING "${PKG}: the Debian archive is out of reach; using the copy of ${PKG} ${cached_version} in ${cached}")
  file(REMOVE_RECURSE "${dl}")
  file(COPY "${cached}/" DESTINATION "${dl}")
endif()

file(GLOB dscs "${dl}/*.dsc")
list(LENGTH dscs n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "expected one .dsc for ${want} in ${dl}, found: ${dscs}")
endif()
file(STRINGS "${dscs}" version_line REGEX "^Version: ")
string(REGEX REPLACE "^Version: *" "" version "${version_line}")
file(SHA256 "${dscs}" dsc_sha256)
get_filename_component(dsc_name "${dscs}" NAME)

# Unpack with the Debian patches applied. apt has checked every file against the signed
# Sources index; dpkg-source checks them against the .dsc.
file(REMOVE_RECURSE "${work}/src")
execute_process(COMMAND "${DPKG_SOURCE}" -x "${dscs}" "${work}/src"
                WORKING_DIRECTORY "${dl}" RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "dpkg-source -x ${dsc_name} failed:\n${out}")
endif()

get_filename_component(version_dir "${VERSION_FILE}" DIRECTORY)
file(MAKE_DIRECTORY "${version_dir}")
file(WRITE "${VERSION_FILE}" "package: ${PKG}
version: ${version}
dsc: ${dsc_name}
dsc-sha256: ${dsc_sha256}
")
message(STATUS "Debian source ${PKG} ${version} (${dsc_name} sha256 ${dsc_sha256})")
file(TOUCH "${work}/unpacked.stamp")
