# embed_kernel.cmake -- cmake -P script: writes the OpenCL program source as a
# C char array (not a string literal, whose length compilers limit).
#   -DCC=compiler -DSRC=kernels/cim_kernels.cl -DKERNEL_DIR=dir -DRANDOM123_DIR=dir -DOUT=out.c
# The shared headers (cim_device.h: ours and Random123's) are preprocessed here,
# keeping their #defines (-dD), so the binary needs no header at run time; the
# kernel files themselves stay unexpanded, so run-time build options such as
# -D CIM_VW still apply to them.
execute_process(
  COMMAND ${CC} -E -P -dD -undef -nostdinc -x c -D__OPENCL_VERSION__=120
          -I${KERNEL_DIR} -I${RANDOM123_DIR} ${KERNEL_DIR}/cim_device.h
  OUTPUT_VARIABLE prelude RESULT_VARIABLE rc ERROR_VARIABLE errors)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "preprocessing cim_device.h failed:\n${errors}")
endif()
# Drop the compiler's own predefined macros; the device compiler has its own.
string(REGEX REPLACE "#define __(STDC|OPENCL)[^\n]*\n" "" prelude "${prelude}")
# cim_kernels.cl includes cim_device.h (replaced by the prelude) and device-only
# .cl parts of its own (inserted unexpanded, in place).
file(READ ${SRC} text)
string(REGEX MATCHALL "#include \"[^\"]+\"" includes "${text}")
foreach(line ${includes})
  string(REGEX REPLACE "#include \"([^\"]+)\"" "\\1" name "${line}")
  if(name STREQUAL "cim_device.h")
    string(REPLACE "${line}" "${prelude}" text "${text}")
  else()
    file(READ ${KERNEL_DIR}/${name} part)
    string(REPLACE "${line}" "${part}" text "${text}")
  endif()
endforeach()
string(LENGTH "${text}" len)
file(WRITE ${OUT}.tmp "${text}")
file(READ ${OUT}.tmp hex HEX)
file(REMOVE ${OUT}.tmp)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)"
       "\\1\n" body "${body}")
# The array stays plain char, as OpenCL's clCreateProgramWithSource takes it;
# bytes above 0x7f (UTF-8 in comments) are cast, not narrowed implicitly.
string(REGEX REPLACE "0x([89a-f][0-9a-f])," "(char)0x\\1," body "${body}")
file(WRITE ${OUT}
     "/* Generated from ${SRC} by embed_kernel.cmake; do not edit. */\n"
     "#include <stddef.h>\n"
     "const char cim_kernel_source[] = {\n${body}0x00};\n"
     "const size_t cim_kernel_source_len = ${len};\n")
