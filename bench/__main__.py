"""``python -m bench [NAME ...] [--quick] [--db all|sqlite|postgresql]``; and the child processes the
benchmarks start the same way (``python -m bench _serve ...``)."""

import sys

from bench import dossiers, harness, households, impact, maps, scale, sms, sync, today, units, walk

BENCHMARKS = {
    "units": units.bench_units,
    "households": households.bench_households,
    "sync": sync.bench_sync,
    "walk": walk.bench_walk,
    "today": today.bench_today,
    "maps": maps.bench_maps,
    "dossiers": dossiers.bench_dossiers,
    "impact": impact.bench_impact,
    "sms": sms.bench_sms,
    "scale": scale.bench_scale,
}

# Work done in a fresh interpreter, started by harness.child or harness.live_server: argv[0] names it.
CHILDREN = {
    "_households_child": households.households_child,
    "_dossiers_child": dossiers.dossiers_child,
    "_serve": harness.serve_child,
    "_migrate": harness.migrate_child,
}

if __name__ == "__main__":
    sys.exit(harness.main(sys.argv[1:], BENCHMARKS, CHILDREN))
