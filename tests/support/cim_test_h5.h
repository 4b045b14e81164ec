/* cim_test_h5.h -- reading back the HDF5 files cimgpu writes, for the suites
 * that check them (test_cli, test_h5_run). Every helper fails the running
 * cmocka test, naming the item, when the item is missing or unreadable.
 */
#ifndef CIM_TEST_H5_H
#define CIM_TEST_H5_H

#include <hdf5.h>
#include <stdint.h>

/* A variable-length UTF-8 string attribute, malloc'd ("" for a NULL value). */
char *cim_test_read_string_attr(hid_t loc, const char *name);

/* The string attribute equals `expected`. */
void cim_test_assert_string_attr(hid_t loc, const char *name, const char *expected);

/* A whole dataset as mem_type, malloc'd (one spare byte, so empty datasets
 * give a pointer too); its rank into *rank and its dimensions into dims
 * (room for 8). */
void *cim_test_read_dataset(hid_t file, const char *name, hid_t mem_type, int *rank, hsize_t *dims);

/* The root trials_written of a results file opened as an SWMR reader (a live
 * partial file, or a finished one), or -1 while it cannot be read (not
 * there yet, just renamed). With rows_of (e.g. "trials/accuracy"), the
 * test fails when that dataset has fewer rows than the count says are
 * final. */
int64_t cim_test_trials_written(const char *path, const char *rows_of);

#endif /* CIM_TEST_H5_H */
