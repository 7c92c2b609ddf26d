#!/usr/bin/env python3
"""Compares the engine's solar-term instants with JPL DE421 (skyfield's solar_terms: IAU 2006/2000A
precession-nutation, full aberration and light time), and optionally the vectors' reference.

    pip install skyfield skyfield-data        # skyfield-data ships de421.bsp
    cargo run --release -p engine --example term_check > /tmp/terms.csv
    python3 engine/tools/de421_check.py /tmp/terms.csv [engine/tests/data/public-*.csv]

Prints median / p95 / max of |engine - DE421| in TT (the ephemeris model alone) and in UT (model
plus the two ΔT models: ours and skyfield's IERS-based one), per period, and the same for the
reference's nearest_term_utc column when vector files are given.
"""
import csv
import sys
from datetime import datetime, timezone

from skyfield import almanac
from skyfield.almanac_east_asia import solar_terms
from skyfield.api import Loader
from skyfield_data import get_skyfield_data_path


def stats(xs):
    a = sorted(abs(x) for x in xs)
    if not a:
        return 'n=0'
    return 'n=%d median %.2f s, p95 %.2f s, max %.2f s' % (len(a), a[len(a) // 2], a[len(a) * 95 // 100], a[-1])


def main():
    load = Loader(get_skyfield_data_path(), verbose=False)
    ts = load.timescale(builtin=True)
    eph = load('de421.bsp')
    t, idx = almanac.find_discrete(ts.utc(1900, 1, 2), ts.utc(2050, 12, 31), solar_terms(eph), epsilon=1e-4 / 86400)
    de = {}
    for ti, i in zip(t, idx):
        year = ti.utc.year if hasattr(ti.utc, 'year') else int(ti.utc[0])
        k = ((15 * int(i) - 285) % 360) // 15
        unix_ms = (ti.ut1 - 2440587.5) * 86400000.0
        de[(year, k)] = (ti.tt, unix_ms)
    mine = {}
    with open(sys.argv[1]) as f:
        for r in csv.DictReader(f):
            mine[(int(r['year']), int(r['k']))] = (float(r['jde_tt']), int(r['unix_ms_ut']))
    periods = [(1900, 1950), (1950, 2000), (2000, 2025), (2025, 2051)]
    print('engine vs DE421')
    for lo, hi in periods:
        keys = [key for key in de if lo <= key[0] < hi and key in mine]
        tt = [(mine[key][0] - de[key][0]) * 86400 for key in keys]
        ut = [(mine[key][1] - de[key][1]) / 1000 for key in keys]
        print('  %d-%d  TT: %s | UT: %s' % (lo, hi - 1, stats(tt), stats(ut)))
    if len(sys.argv) > 2:
        by_ms = sorted(v[1] for v in de.values())
        import bisect
        ref = {}
        for path in sys.argv[2:]:
            with open(path) as f:
                for r in csv.DictReader(f):
                    s = r['nearest_term_utc']
                    ms = datetime.fromisoformat(s.replace('Z', '+00:00')).timestamp() * 1000
                    ref[s] = ms
        print('reference (nearest_term_utc) vs DE421, UT')
        for lo, hi in periods:
            errs = []
            for s, ms in ref.items():
                if lo <= int(s[:4]) < hi:
                    j = bisect.bisect_left(by_ms, ms)
                    near = min(by_ms[max(j - 1, 0):j + 1], key=lambda v: abs(v - ms))
                    errs.append((ms - near) / 1000)
            print('  %d-%d  UT: %s' % (lo, hi - 1, stats(errs)))


if __name__ == '__main__':
    main()
