/* cim_build_info.h -- what the binary knows about its own build: the release
 * version (CMake's project version, CIM_VERSION) and the git revision of the
 * source tree it was compiled from, read at build time by
 * cmake/git_revision.cmake ("<hash>", "<hash>-dirty" with uncommitted changes,
 * or "unknown" outside a git checkout).
 */
#ifndef CIM_BUILD_INFO_H
#define CIM_BUILD_INFO_H

#ifndef CIM_VERSION
#define CIM_VERSION "unknown"
#endif

extern const char cim_git_revision[];

#endif /* CIM_BUILD_INFO_H */
