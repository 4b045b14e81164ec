/* cim_config_json.c -- a cim_config as the JSON text of its every key, for
 * the provenance attribute of results files.
 *
 * The members are the key table's (cim_config.c), in its order, with the
 * defaults filled in (adc_calib_info only when given), so a results file
 * records the whole configuration that produced it, not only what its config
 * file said. Optional numbers that were not given (NAN) are left out: JSON has
 * no NAN. The input forms of device tables (device_cdf_csv, device_lognormal)
 * are recorded as the device_cdf tables they gave. The text reads back through
 * cim_config_parse to an equal config, and writing that again gives the same
 * text (tests/test_config.c checks the round trip).
 *
 * Invariant: only a config that validates is written (the choice names and the
 * mapping name are looked up by index); the caller frees the text.
 */
#include "cim_config.h"

#include <cjson/cJSON.h>
#include <math.h>

#include "cim_config_internal.h"
#include "cim_mapping.h"
#include "cim_text.h"

cJSON *cim_config_json_number(double x)
{
    char text[32];
    cim_text_double(text, sizeof text, x);
    return cJSON_CreateRaw(text);
}

cJSON *cim_config_json_pair(double a, double b)
{
    const double v[2] = {a, b};
    cJSON *pair = cJSON_CreateArray();
    for (int i = 0; pair && i < 2; ++i) {
        cJSON *x = cim_config_json_number(v[i]);
        if (!x || !cJSON_AddItemToArray(pair, x)) {
            cJSON_Delete(x);
            cJSON_Delete(pair);
            pair = NULL;
        }
    }
    return pair;
}

static cJSON *member_json(const cim_config *cfg, const cim_key_spec *k)
{
    switch (k->kind) {
    case CIM_KEY_BOOL:
        return cJSON_CreateBool(cim_key_int_value(cfg, k) != 0);
    case CIM_KEY_INT:
        return cJSON_CreateNumber(cim_key_int_value(cfg, k));
    case CIM_KEY_NUMBER:
        return cim_config_json_number(cim_key_double_value(cfg, k));
    case CIM_KEY_CHOICE:
        return cJSON_CreateString(k->choices[cim_key_int_value(cfg, k)]);
    case CIM_KEY_MAPPING:
        return cJSON_CreateString(cim_mapping_name(cfg->mapping));
    case CIM_KEY_SPLIT:
        return cJSON_CreateIntArray(cfg->split, cfg->n_split);
    case CIM_KEY_CALIB_INFO:
        return cJSON_Parse(cfg->calib_info);
    case CIM_KEY_CALIB_DICT: {
        cJSON *dict = cJSON_CreateObject();
        for (int i = 0; dict && i < cfg->n_calib; ++i) {
            cJSON *pair = cim_config_json_pair(cfg->calib[i].lo_ua, cfg->calib[i].hi_ua);
            if (!pair || !cJSON_AddItemToObject(dict, cfg->calib[i].layer, pair)) {
                cJSON_Delete(pair);
                cJSON_Delete(dict);
                return NULL;
            }
        }
        return dict;
    }
    case CIM_KEY_CDF:
        return cim_config_cdf_json(cfg, k);
    case CIM_KEY_CDF_CSV:
    case CIM_KEY_LOGNORMAL:
        return NULL; /* input forms: recorded as the device_cdf tables they gave */
    }
    return NULL;
}

char *cim_config_to_json(const cim_config *cfg)
{
    if (cim_config_validate(cfg, NULL))
        return NULL; /* the table lookups below need valid indices */
    cJSON *root = cJSON_CreateObject();
    for (int i = 0; root && i < cim_config_n_keys; ++i) {
        const cim_key_spec *k = &cim_config_keys[i];
        if (k->kind == CIM_KEY_NUMBER && k->optional && isnan(cim_key_double_value(cfg, k)))
            continue; /* not given */
        if (k->kind == CIM_KEY_CDF_CSV || k->kind == CIM_KEY_LOGNORMAL)
            continue; /* input forms of device_cdf, which records their tables */
        if (k->kind == CIM_KEY_CALIB_INFO && !cfg->calib_info)
            continue;
        cJSON *v = member_json(cfg, k);
        if (!v || !cJSON_AddItemToObject(root, k->name, v)) {
            cJSON_Delete(v);
            cJSON_Delete(root);
            return NULL;
        }
    }
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return text;
}
