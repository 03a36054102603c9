"""Benchmarks for the bulk imports, the visit sync, the walk list, the "Today" page, the maps, the SMS
dispatcher and the statistics (``make bench``); see bench/README.md.

    .venv/bin/python -m bench                        # everything, full sizes
    .venv/bin/python -m bench units                  # only the administrative-unit import
    .venv/bin/python -m bench households             # only the household CSV import
    .venv/bin/python -m bench sync walk today        # the field app: visit sync, walk list, first load of "Today"
    .venv/bin/python -m bench maps sms dossiers impact
    .venv/bin/python -m bench --quick                # smaller sizes, for a smoke run
    .venv/bin/python -m bench households --db sqlite

One module per benchmark (``units``, ``households``, ``sync``, ``walk``, ``today``, ``maps``, ``sms``,
``dossiers``, ``impact``), each with its ``bench_<name>(tmp, quick, selected_db)``; ``harness`` holds
what they share (databases, child processes, the served app, timing, the OK/FAIL lines, peak memory)
and ``fixtures`` the data several of them make. ``__main__`` lists the benchmarks and the child
commands.

Every measured figure is one line ending in OK or FAIL against its target; the exit status is 1
if any figure failed. PostgreSQL is ``postgresql+psycopg://postgres@127.0.0.1:5432/bench``
(override with BENCH_DATABASE_URL): the database is created when missing, and its ``public``
schema is dropped and rebuilt by the migrations before each benchmark. When PostgreSQL cannot be
reached its lines say SKIP. SQLite databases and the generated CSV files live in a temporary
directory that is removed at the end. ``sync`` and ``today`` serve the app over HTTP from a child
process (gunicorn, else werkzeug); ``today`` drives headless Chromium (/usr/bin/chromium) with
Playwright.
"""
