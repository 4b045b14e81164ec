# embed_kernel.cmake -- cmake -P script: preprocess an OpenCL source with its
# include folders and write it as a C char array (not a string literal, whose
# length compilers limit).
#   -DCC=compiler -DSRC=file.cl -DINCLUDES=dir;dir -DOUT=out.c
set(inc_flags)
foreach(dir ${INCLUDES})
  list(APPEND inc_flags -I${dir})
endforeach()
execute_process(
  COMMAND ${CC} -E -P -undef -x c -D__OPENCL_VERSION__=120 -D__OPENCL_C_VERSION__=120
          ${inc_flags} ${SRC}
  OUTPUT_VARIABLE text RESULT_VARIABLE rc ERROR_VARIABLE errors)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "preprocessing ${SRC} failed:\n${errors}")
endif()
string(LENGTH "${text}" len)
file(WRITE ${OUT}.tmp "${text}")
file(READ ${OUT}.tmp hex HEX)
file(REMOVE ${OUT}.tmp)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)"
       "\\1\n" body "${body}")
file(WRITE ${OUT}
     "/* Generated from ${SRC} by embed_kernel.cmake; do not edit. */\n"
     "#include <stddef.h>\n"
     "const char cim_kernel_source[] = {\n${body}0x00};\n"
     "const size_t cim_kernel_source_len = ${len};\n")
