/* cim_mapping.h -- host-side access to the mapping table of
 * kernels/cim_mappings.h: names, alphabets, cell states and row drives.
 */
#ifndef CIM_MAPPING_H
#define CIM_MAPPING_H

#include <stdint.h>

#include "cim_mappings.h"

/* "BNN_I" ... "TNN_V"; NULL for an invalid id. */
const char *cim_mapping_name(cim_mapping_id id);

/* 0 and *id set, or -1 if `name` is no mapping. */
int cim_mapping_from_name(const char *name, cim_mapping_id *id);

const cim_mapping_desc *cim_mapping_desc_of(cim_mapping_id id);

/* 1 if v is in the mapping's weight/input alphabet ({-1,+1} or {-1,0,+1}). */
int cim_mapping_value_ok(cim_mapping_id id, int v);

/* State bit (CIM_STATE_HRS/LRS) of cell slot `slot` for weight w (valid w). */
int cim_mapping_cell_state(cim_mapping_id id, int slot, int w);

/* Row-drive bit of drive vector `drive` for input x (valid x). */
int cim_mapping_drive(cim_mapping_id id, int drive, int x);

#endif /* CIM_MAPPING_H */
