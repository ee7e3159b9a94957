# S2RLayers.cmake: s2r_layer(), one static library per folder of core/
# (docs/architecture.md, "Layers").
#
#   s2r_layer(<folder>
#       [USES <s2r_... layer targets below it>]
#       [LIBRARIES <external libraries>])
#
# Creates the STATIC target s2r_<folder> from core/<folder>/*.c, linked
# PUBLIC with the layers it USES and its LIBRARIES only, and the check
# s2r_<folder>_linkcheck: the same objects as a shared object linked with
# -Wl,--no-undefined against those layers alone, so the linker refuses a
# call into a layer above or beside (scripts/layering-check reads the
# includes and the objects' calls, with the same table).
include_guard(GLOBAL)

set(S2R_LAYER_CHECK_DIR "${CMAKE_BINARY_DIR}/layers")

function(s2r_layer folder)
  cmake_parse_arguments(L "" "" "USES;LIBRARIES" ${ARGN})
  set(target s2r_${folder})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/core/${folder}/*.c)
  add_library(${target} STATIC ${sources})
  target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR}/include
                                              ${CMAKE_SOURCE_DIR}/core)
  target_link_libraries(${target} PUBLIC ${L_USES} ${L_LIBRARIES})
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)

  add_library(${target}_linkcheck SHARED $<TARGET_OBJECTS:${target}>)
  target_link_libraries(${target}_linkcheck PRIVATE ${L_USES} ${L_LIBRARIES})
  target_link_options(${target}_linkcheck PRIVATE "LINKER:--no-undefined")
  set_target_properties(${target}_linkcheck PROPERTIES
    LIBRARY_OUTPUT_DIRECTORY ${S2R_LAYER_CHECK_DIR}
    OUTPUT_NAME s2r-layer-${folder})
endfunction()
