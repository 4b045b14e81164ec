/* cim_error.c -- see cim_error.h. */
#include "cim_error.h"

#include <stdarg.h>
#include <stdio.h>

int cim_error_set(cim_error *err, int code, const char *fmt, ...)
{
    if (err && err->code == CIM_OK) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void cim_error_clear(cim_error *err)
{
    if (err) {
        err->code = CIM_OK;
        err->msg[0] = '\0';
    }
}

const char *cim_error_name(int code)
{
    switch (code) {
    case CIM_OK:
        return "CIM_OK";
#define CIM_ERR_NAME(name, value, exit_code, desc)                                                 \
    case value:                                                                                    \
        return "CIM_ERR_" #name;
        CIM_ERR_MAP(CIM_ERR_NAME)
#undef CIM_ERR_NAME
    }
    return "CIM_ERR_UNKNOWN";
}

int cim_error_exit_code(int code)
{
    switch (code) {
    case CIM_OK:
        return 0;
#define CIM_ERR_EXIT(name, value, exit_code, desc)                                                 \
    case value:                                                                                    \
        return exit_code;
        CIM_ERR_MAP(CIM_ERR_EXIT)
#undef CIM_ERR_EXIT
    }
    return 1;
}
