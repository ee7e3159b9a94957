# S2RPluginHelpers.cmake: s2r_add_plugin(), shared by in-tree plugins and by
# third-party plugins built against the installed SDK (find_package(S2RPlugin)).
#
#   s2r_add_plugin(<name>
#       SOURCES <files...>
#       [LIBRARIES <targets or libs...>]   # the plugin's private dependencies
#       [OUTPUT_DIRECTORY <dir>]           # default: ${S2R_PLUGIN_BUILD_DIR}
#                                          #          when set, else the
#                                          #          current binary dir
#       [INSTALL_DIR <dir>]                # default: ${S2R_PLUGIN_INSTALL_DIR}
#       [NO_INSTALL])
#
# Creates the MODULE target s2r_plugin_<id> (<id> = <name> with '-' -> '_')
# producing s2r-<name>.so: no "lib" prefix, hidden visibility (only the
# entry symbol from S2R_PLUGIN_DECLARE is exported), linked with
# -Wl,--no-undefined against json-c only (everything else comes from the
# host table), installed into the s2r plugin directory.
include_guard(GLOBAL)

function(s2r_add_plugin name)
  cmake_parse_arguments(P "NO_INSTALL" "OUTPUT_DIRECTORY;INSTALL_DIR"
                        "SOURCES;LIBRARIES" ${ARGN})
  if(NOT P_SOURCES)
    message(FATAL_ERROR "s2r_add_plugin(${name}): SOURCES is required")
  endif()
  if(NOT name MATCHES "^[a-z0-9]+(-[a-z0-9]+)*$")
    message(FATAL_ERROR
      "s2r_add_plugin(${name}): plugin names are lower-kebab-case")
  endif()
  string(REPLACE "-" "_" id "${name}")
  set(target s2r_plugin_${id})
  add_library(${target} MODULE ${P_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "s2r-${name}"
    SUFFIX ".so"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${target} PRIVATE s2r::plugin_sdk ${P_LIBRARIES})
  if(NOT APPLE)
    target_link_options(${target} PRIVATE "LINKER:--no-undefined")
  endif()
  if(P_OUTPUT_DIRECTORY)
    set(outdir "${P_OUTPUT_DIRECTORY}")
  elseif(DEFINED S2R_PLUGIN_BUILD_DIR)
    set(outdir "${S2R_PLUGIN_BUILD_DIR}")
  endif()
  if(outdir)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${outdir}")
  endif()
  if(NOT P_NO_INSTALL)
    if(P_INSTALL_DIR)
      set(dest "${P_INSTALL_DIR}")
    elseif(DEFINED S2R_PLUGIN_INSTALL_DIR)
      set(dest "${S2R_PLUGIN_INSTALL_DIR}")
    else()
      include(GNUInstallDirs)
      set(dest "${CMAKE_INSTALL_LIBDIR}/s2r/plugins")
    endif()
    install(TARGETS ${target} LIBRARY DESTINATION "${dest}")
  endif()
endfunction()
