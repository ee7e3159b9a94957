# S2RSanitize.cmake: a build with sanitizers, and the libFuzzer harnesses
# of tests/fuzz (docs/fuzzing.md).
#
#   -DS2R_SANITIZE=address,undefined
#       every object is compiled and linked with -fsanitize=<list>
#       -fno-sanitize-recover=all -fno-omit-frame-pointer: the first
#       finding stops the program (ASAN_OPTIONS / UBSAN_OPTIONS say how)
#   -DS2R_FUZZ=ON  (clang)
#       objects also get -fsanitize=fuzzer-no-link (libFuzzer's coverage
#       and comparison hooks), and tests/fuzz links its harnesses with
#       -fsanitize=fuzzer; without it tests/fuzz builds the same harnesses
#       around a replay driver (tests/fuzz/replay_main.c)
#   -DS2R_SANITIZE_IGNORELIST=FILE  (clang)
#       functions the sanitizers leave unchecked, one "fun:NAME" a line:
#       known findings whose fixes are pending
#       (tests/fuzz/known-findings.ignorelist says which and why)
#
# Shared objects (plugins, libs2r-runtime.so, libs2r.so, the layer link
# checks) leave the sanitizer runtime to the executable that loads them,
# as clang links it into executables only: s2r_sanitize_finish() drops
# `--no-undefined` from every target of a sanitizer build. The plain build
# keeps every --no-undefined check (docs/architecture.md).
include_guard(GLOBAL)

set(S2R_SANITIZE "" CACHE STRING
    "Sanitizers for every object, e.g. address,undefined (empty: none)")
option(S2R_FUZZ "Build tests/fuzz as libFuzzer harnesses (clang)" OFF)
set(S2R_SANITIZE_IGNORELIST "" CACHE FILEPATH
    "clang -fsanitize-ignorelist file of a sanitizer build (empty: none)")

set(S2R_SANITIZE_FLAGS "")
if(S2R_SANITIZE)
  list(APPEND S2R_SANITIZE_FLAGS -fsanitize=${S2R_SANITIZE}
       -fno-sanitize-recover=all -fno-omit-frame-pointer)
endif()
if(S2R_SANITIZE AND S2R_SANITIZE_IGNORELIST)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "S2R_SANITIZE_IGNORELIST needs clang")
  endif()
  get_filename_component(_ignorelist "${S2R_SANITIZE_IGNORELIST}" ABSOLUTE
                         BASE_DIR "${CMAKE_SOURCE_DIR}")
  list(APPEND S2R_SANITIZE_FLAGS -fsanitize-ignorelist=${_ignorelist})
endif()
if(S2R_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "S2R_FUZZ=ON needs clang (-DCMAKE_C_COMPILER=clang)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
if(S2R_SANITIZE_FLAGS)
  add_compile_options(${S2R_SANITIZE_FLAGS})
  add_link_options(${S2R_SANITIZE_FLAGS})
endif()
# The compiler command for a test that builds a program against the
# instrumented libraries (its CC): the program carries the runtime.
set(S2R_SANITIZE_CC "")
if(S2R_SANITIZE)
  set(S2R_SANITIZE_CC "${CMAKE_C_COMPILER} -fsanitize=${S2R_SANITIZE}")
endif()

# Drop --no-undefined from the targets of @p dir and its subdirectories.
function(s2r_sanitize_relax_links dir)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t ${targets})
    get_target_property(type ${t} TYPE)
    if(type STREQUAL "INTERFACE_LIBRARY")
      continue()
    endif()
    get_target_property(opts ${t} LINK_OPTIONS)
    if(opts)
      list(REMOVE_ITEM opts "LINKER:--no-undefined" "-Wl,--no-undefined")
      set_target_properties(${t} PROPERTIES LINK_OPTIONS "${opts}")
    endif()
    get_target_property(libs ${t} LINK_LIBRARIES)
    if(libs)
      list(REMOVE_ITEM libs "LINKER:--no-undefined" "-Wl,--no-undefined")
      set_target_properties(${t} PROPERTIES LINK_LIBRARIES "${libs}")
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(d ${subdirs})
    s2r_sanitize_relax_links(${d})
  endforeach()
endfunction()

# Call once, at the end of the top CMakeLists.txt.
function(s2r_sanitize_finish)
  if(S2R_SANITIZE OR S2R_FUZZ)
    s2r_sanitize_relax_links(${CMAKE_SOURCE_DIR})
  endif()
endfunction()
