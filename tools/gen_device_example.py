#!/usr/bin/env python3
"""gen_device_example.py -- writes data/devices/example_rram.csv, the example table of
measured-looking cell currents that the docs and tests use.

The samples are SYNTHETIC: no instrument produced them. They are drawn with Python's own
generator (random.Random(SEED), so the file is reproducible) from two skewed distributions
shaped like published RRAM read-current spreads: lognormal HRS currents (median 5 uA,
ln-sigma 0.30: a long high tail) and LRS currents of median 30 uA, ln-sigma 0.10, with a
5 % sub-population of weaker cells (median 22 uA) that gives the LRS distribution a low
tail no Gaussian has. Currents are rounded to 1 nA (0.001 uA). Replace the file with real
read-outs (one line per cell: state,current_uA) to simulate a characterised array.

  python3 tools/gen_device_example.py [OUT.csv]
"""
import math
import random
import sys

SEED = 20240613
SAMPLES = 2000  # per state


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "data/devices/example_rram.csv"
    rng = random.Random(SEED)
    rows = ["# synthetic example (tools/gen_device_example.py), not measured data",
            "state,current_uA"]
    for _ in range(SAMPLES):
        rows.append("HRS,%.3f" % rng.lognormvariate(math.log(5.0), 0.30))
    for _ in range(SAMPLES):
        median = 22.0 if rng.random() < 0.05 else 30.0
        rows.append("LRS,%.3f" % rng.lognormvariate(math.log(median), 0.10))
    with open(out, "w") as f:
        f.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
