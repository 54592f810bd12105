# The read-only root: tree + erofs image (target root_image), made by make-root.sh from our
# static binaries, BusyBox, dropbear and fsck.fat (musl), e2fsck, the host's kernel modules, the
# default services and their images. Manifests are checked against the images at build time, so a
# bad manifest fails the build, not the boot.
set(BERTH_IMAGE_VERSION "${PROJECT_VERSION}" CACHE STRING
    "Version of the image: os-release, boot entries, update bundle (systemd-boot boots the highest: an update must sort higher)")
set(BERTH_IMAGE_COMPATIBLE "berth-x86_64-efi" CACHE STRING
    "The image family: a host accepts only bundles that name the same (/usr/lib/berth/compatible)")
set(BERTH_UPDATE_KEY "" CACHE FILEPATH
    "Secret key that signs update bundles (berth-bundle keygen); empty: a development key made by the build")
set(BERTH_UPDATE_TRUSTED_KEYS "" CACHE STRING
    "More public key files (;-list) the image trusts besides the signing key's, for key rotation")
set(BERTH_IMAGE_VARIANT "default" CACHE STRING "Image variant: default, or debug (console shell on ttyS0)")
set_property(CACHE BERTH_IMAGE_VARIANT PROPERTY STRINGS default debug)

# Reproducible builds: timestamps come from the last commit unless SOURCE_DATE_EPOCH is set.
if(DEFINED ENV{SOURCE_DATE_EPOCH})
  set(berth_epoch $ENV{SOURCE_DATE_EPOCH})
else()
  execute_process(COMMAND git -C ${PROJECT_SOURCE_DIR} log -1 --format=%ct
                  OUTPUT_VARIABLE berth_epoch OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT berth_epoch)
    set(berth_epoch 1700000000)
  endif()
endif()
execute_process(COMMAND git -C ${PROJECT_SOURCE_DIR} rev-parse --short=12 HEAD
                OUTPUT_VARIABLE berth_build_id OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT berth_build_id)
  set(berth_build_id "unknown")
endif()
set(BERTH_SOURCE_DATE_EPOCH ${berth_epoch} CACHE INTERNAL "")
set(BERTH_BUILD_ID ${berth_build_id} CACHE INTERNAL "")

set(root_dir ${CMAKE_BINARY_DIR}/rootfs)

# ---- Update keys: the signing key, and the public keys the image trusts. ---------------------------
set(update_keys_dir ${CMAKE_BINARY_DIR}/update-keys)
if(BERTH_UPDATE_KEY)
  if(NOT EXISTS ${BERTH_UPDATE_KEY})
    message(FATAL_ERROR "BERTH_UPDATE_KEY: no file ${BERTH_UPDATE_KEY}")
  endif()
  set(BERTH_UPDATE_SIGNING_KEY ${BERTH_UPDATE_KEY} CACHE INTERNAL "")
  set(BERTH_UPDATE_DEVELOPMENT_KEY OFF CACHE INTERNAL "")
  set(signing_key_command COMMAND ${CMAKE_COMMAND} -E true)
else()
  message(WARNING "No BERTH_UPDATE_KEY: update bundles of this build are signed by a DEVELOPMENT key the build "
                  "makes up (${update_keys_dir}/development.secret), and its images trust it. Give a release key "
                  "(berth-bundle keygen) for images that leave this machine.")
  set(BERTH_UPDATE_SIGNING_KEY ${update_keys_dir}/development.secret CACHE INTERNAL "")
  set(BERTH_UPDATE_DEVELOPMENT_KEY ON CACHE INTERNAL "")
endif()
# The trusted directory: the signing key's public half, then the extra keys. Made at build time
# (a development key is generated once per build tree and kept).
set(trusted_keys_dir ${update_keys_dir}/trusted)
set(extra_key_copies "")
foreach(pub IN LISTS BERTH_UPDATE_TRUSTED_KEYS)
  get_filename_component(pub_name ${pub} NAME)
  list(APPEND extra_key_copies COMMAND ${CMAKE_COMMAND} -E copy ${pub} ${trusted_keys_dir}/${pub_name})
endforeach()
add_custom_command(
  OUTPUT ${trusted_keys_dir}/signing.pub
  COMMAND ${CMAKE_COMMAND} -E make_directory ${trusted_keys_dir}
  COMMAND sh -c "[ -f '${BERTH_UPDATE_SIGNING_KEY}' ] || '$<TARGET_FILE:berth-bundle>' keygen '${BERTH_UPDATE_SIGNING_KEY}' '${update_keys_dir}/development.pub' 'development key of this build tree'"
  COMMAND sh -c "'$<TARGET_FILE:berth-bundle>' public '${BERTH_UPDATE_SIGNING_KEY}' > '${trusted_keys_dir}/signing.pub'"
  ${extra_key_copies}
  DEPENDS berth-bundle ${BERTH_UPDATE_KEY} ${BERTH_UPDATE_TRUSTED_KEYS}
  COMMENT "Update keys: the signing key's public half (and extra trusted keys)"
  VERBATIM)
add_custom_target(update_keys DEPENDS ${trusted_keys_dir}/signing.pub)
set(root_tree ${root_dir}/tree)
set(root_image ${root_dir}/root.erofs)
file(GLOB root_inputs CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_SOURCE_DIR}/services/*.toml
  ${CMAKE_CURRENT_SOURCE_DIR}/services-debug/*.toml
  ${CMAKE_CURRENT_SOURCE_DIR}/images/*/*)

set(make_root_args
  --bin ${root_dir}/bin --busybox ${BUSYBOX_OUT} --dropbear ${DROPBEAR_OUT}
  --udhcpc-script ${BUSYBOX_UDHCPC_SCRIPT} --e2fsck ${E2FSCK_OUT} --fsck-fat ${FSCK_FAT_OUT} --modules ${root_dir}/kernel/host-modules
  --version ${BERTH_IMAGE_VERSION} --build-id ${berth_build_id} --epoch ${berth_epoch} --variant ${BERTH_IMAGE_VARIANT}
  --update-keys ${trusted_keys_dir} --compatible ${BERTH_IMAGE_COMPATIBLE})

add_custom_command(
  OUTPUT ${root_image}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${root_dir}/bin
  COMMAND ${CMAKE_COMMAND} -E copy $<TARGET_FILE:berth-multicall> $<TARGET_FILE:berthctl> ${root_dir}/bin/
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/make-root.sh
          --out ${root_tree} --image ${root_image} ${make_root_args}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/make-root.sh ${CMAKE_CURRENT_SOURCE_DIR}/pack-root.sh ${root_inputs} ${root_dir}/kernel/host-modules.stamp
          berth-multicall berthctl busybox_musl dropbear_musl dosfstools_musl ${FSCK_FAT_OUT} kernel e2fsck_static ${E2FSCK_OUT}
          ${trusted_keys_dir}/signing.pub update_keys
  COMMENT "Assembling the read-only root (erofs)"
  VERBATIM)
add_custom_target(root_image DEPENDS ${root_image})

# Same inputs, same bytes: the image is built twice more, elsewhere, and compared (needs the
# image built first: scripts/test.sh does).
if(BERTH_TESTS)
  add_test(NAME rootfs_reproducible
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/check-reproducible.sh ${root_image}
                   ${CMAKE_CURRENT_SOURCE_DIR}/make-root.sh ${make_root_args})
  set_tests_properties(rootfs_reproducible PROPERTIES LABELS image TIMEOUT 300)
endif()
