# Writes OUT, a Lua module returning the files under share/luamig/ (the
# editor definitions and templates) as strings keyed by their path there,
# so that every luamig binary can write them (luamig.project.editor).
#   cmake -DSHARE_DIR=... -DOUT=... -P embed_share.cmake
file(GLOB_RECURSE files RELATIVE "${SHARE_DIR}" "${SHARE_DIR}/*.lua" "${SHARE_DIR}/*.json")
list(SORT files)
set(text "-- Generated from share/luamig/ by cmake/embed_share.cmake: do not edit.\nreturn {\n")
foreach(f IN LISTS files)
  file(READ "${SHARE_DIR}/${f}" content)
  # a long bracket whose closing form the content does not hold
  set(eq "")
  string(FIND "${content}" "]]" at)
  while(NOT at EQUAL -1)
    string(APPEND eq "=")
    string(FIND "${content}" "]${eq}]" at)
  endwhile()
  string(APPEND text "  [\"${f}\"] = [${eq}[\n${content}]${eq}],\n")
endforeach()
string(APPEND text "}\n")
file(WRITE "${OUT}.tmp" "${text}")
file(RENAME "${OUT}.tmp" "${OUT}")
