# S2REmbedText.cmake: cmake -DIN=FILE -DOUT=HEADER -DNAME=ARRAY -P this
# writes HEADER with `static const char ARRAY[]`, FILE's text as a C
# string (core/runai/srun_standin.c embeds srun_standin.sh this way).
file(READ "${IN}" text)
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
string(REPLACE "\n" "\\n\"\n    \"" text "${text}")
get_filename_component(src "${IN}" NAME)
file(WRITE "${OUT}.tmp"
  "/* generated from ${src} by cmake/S2REmbedText.cmake */\n"
  "static const char ${NAME}[] =\n    \"${text}\";\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different
                "${OUT}.tmp" "${OUT}")
file(REMOVE "${OUT}.tmp")
