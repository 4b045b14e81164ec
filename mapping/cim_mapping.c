/* cim_mapping.c -- names and per-value lookups over the mapping table.
 *
 * The table itself lives in kernels/cim_mappings.h so that OpenCL C compiles
 * the very same data; this file only answers questions about it for host code
 * (config validation, weight encoding, the reference MVM).
 */
#include "cim_mapping.h"

#include <string.h>

static const char *const mapping_names[CIM_MAPPING_COUNT] = {
#define CIM_MAPPING_NAME(name) #name,
    CIM_MAPPING_LIST(CIM_MAPPING_NAME)
#undef CIM_MAPPING_NAME
};

const char *cim_mapping_name(cim_mapping_id id)
{
    return (unsigned)id < CIM_MAPPING_COUNT ? mapping_names[id] : NULL;
}

int cim_mapping_from_name(const char *name, cim_mapping_id *id)
{
    for (int i = 0; i < CIM_MAPPING_COUNT; ++i) {
        if (strcmp(name, mapping_names[i]) == 0) {
            *id = (cim_mapping_id)i;
            return 0;
        }
    }
    return -1;
}

const cim_mapping_desc *cim_mapping_desc_of(cim_mapping_id id)
{
    return &CIM_MAPPINGS[id];
}

int cim_mapping_value_ok(cim_mapping_id id, int v)
{
    if (v == 1 || v == -1)
        return 1;
    return v == 0 && CIM_MAPPINGS[id].ternary;
}

int cim_mapping_cell_state(cim_mapping_id id, int slot, int w)
{
    return CIM_MAPPINGS[id].slot_state[slot][w + 1];
}

int cim_mapping_drive(cim_mapping_id id, int drive, int x)
{
    return CIM_MAPPINGS[id].drive[drive][x + 1];
}
