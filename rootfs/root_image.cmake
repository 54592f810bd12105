# The read-only root: tree + erofs image (target root_image), made by make-root.sh from our
# static binaries, BusyBox and dropbear (musl), the host's kernel modules, the default
# services and their images. Manifests are checked against the images at build time, so a
# bad manifest fails the build, not the boot.
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

set(root_dir ${CMAKE_BINARY_DIR}/rootfs)
set(root_tree ${root_dir}/tree)
set(root_image ${root_dir}/root.erofs)
file(GLOB root_inputs CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_SOURCE_DIR}/services/*.toml
  ${CMAKE_CURRENT_SOURCE_DIR}/services-debug/*.toml
  ${CMAKE_CURRENT_SOURCE_DIR}/images/*/*)

set(make_root_args
  --bin ${root_dir}/bin --busybox ${BUSYBOX_OUT} --dropbear ${DROPBEAR_OUT}
  --udhcpc-script ${BUSYBOX_UDHCPC_SCRIPT} --e2fsck ${E2FSCK_OUT} --modules ${root_dir}/kernel/host-modules
  --version ${PROJECT_VERSION} --build-id ${berth_build_id} --epoch ${berth_epoch} --variant ${BERTH_IMAGE_VARIANT})

add_custom_command(
  OUTPUT ${root_image}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${root_dir}/bin
  COMMAND ${CMAKE_COMMAND} -E copy $<TARGET_FILE:berth-multicall> $<TARGET_FILE:berthctl> ${root_dir}/bin/
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/make-root.sh
          --out ${root_tree} --image ${root_image} ${make_root_args}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/make-root.sh ${root_inputs} ${root_dir}/kernel/host-modules.stamp
          berth-multicall berthctl busybox_musl dropbear_musl kernel e2fsck_static ${E2FSCK_OUT}
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
