# Run the built luamig to write one generated file (the man page, a
# completion script) from its command registry:
#   cmake -DLUAMIG=<binary> -DOUT=<file> -DARGS=help,--man -P generate.cmake
# It runs in an empty directory, so no project's luamig.lua or plugins
# leak in, and with the embedded Lua (not $LUAMIG_LUA_DIR).
unset(ENV{LUAMIG_LUA_DIR})
unset(ENV{LUAMIG_URL})
unset(ENV{DATABASE_URL})
string(REPLACE "," ";" ARGS "${ARGS}")
get_filename_component(dir "${OUT}" DIRECTORY)
set(work "${dir}/generate-empty")
file(MAKE_DIRECTORY "${work}")
execute_process(COMMAND "${LUAMIG}" ${ARGS}
  WORKING_DIRECTORY "${work}"
  OUTPUT_FILE "${OUT}.tmp"
  ERROR_VARIABLE err
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "luamig ${ARGS} failed (${rc}): ${err}")
endif()
file(RENAME "${OUT}.tmp" "${OUT}")
