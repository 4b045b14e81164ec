/* main.c -- cimgpu command-line entry point. */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "cimgpu: no subcommand yet\n");
    return 2;
}
