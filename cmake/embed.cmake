# Turns one file into a C source holding its bytes: run as
#   cmake -DIN=file -DOUT=file.c -DSYM=name -P embed.cmake
# The daemon serves what it embeds (the OpenAPI document, the docs page, the default config),
# so the binary works from any directory.
if(EXISTS "${IN}")
  file(READ "${IN}" hex HEX)
else()
  set(hex "")
endif()
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" body "${body}")
file(WRITE "${OUT}.tmp" "/* Generated from ${IN} by cmake/embed.cmake. */\n#include <stddef.h>\nconst unsigned char ${SYM}[] = {\n${body}0x00};\nconst size_t ${SYM}_len = ${size};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
