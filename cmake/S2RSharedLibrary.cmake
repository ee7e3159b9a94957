# S2RSharedLibrary.cmake: libs2r.so, the converter (s2r_convert) as a
# shared library for language bindings and C programs. It exports the
# public API of include/s2r/s2r.h only (cmake/libs2r.map) and links json-c,
# libyaml and inih, like the plain `s2r job.sh` path.
#
# Installed: <libdir>/libs2r.so.<major> (+ the libs2r.so link), the
# public header as <s2r/s2r.h> (beside <s2r/plugin.h>, which it includes)
# and <libdir>/pkgconfig/s2r.pc.
include_guard(GLOBAL)

set(S2R_LIBRARY_MAP ${CMAKE_SOURCE_DIR}/cmake/libs2r.map)
add_library(s2r_shared SHARED ${CMAKE_SOURCE_DIR}/cmake/empty.c)
target_link_libraries(s2r_shared PRIVATE
  -Wl,--whole-archive s2r_convert s2r_runai s2r_body s2r_slurm s2r_config
  s2r_shell s2r_base -Wl,--no-whole-archive
  PkgConfig::JSONC PkgConfig::YAML PkgConfig::INIH m)
target_link_options(s2r_shared PRIVATE
  "LINKER:--version-script=${S2R_LIBRARY_MAP}" "LINKER:--no-undefined")
set_target_properties(s2r_shared PROPERTIES
  OUTPUT_NAME s2r
  VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}
  LINK_DEPENDS ${S2R_LIBRARY_MAP}
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
install(TARGETS s2r_shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${CMAKE_SOURCE_DIR}/include/s2r/s2r.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/s2r)
configure_file(${CMAKE_SOURCE_DIR}/cmake/s2r.pc.in ${CMAKE_BINARY_DIR}/s2r.pc
               @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/s2r.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
