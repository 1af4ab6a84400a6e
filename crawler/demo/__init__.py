"""The bundled demo: candidates (``candidates.csv``), a recorded session (``demo.har``) and
the synthetic history the demo adds to its own database (``backfill.py``).

``demo.har`` is generated from the samples in ``tests/fixtures`` (real where a public project
saved one, synthetic and marked so otherwise) and the demo's own synthetic press pages
(``pages/``) by ``python -m crawler.demo.build`` (see ``manifest.toml``); it is committed so
that ``wangzi demo`` runs offline from an installed package.
"""

#: What ``wangzi demo`` prints last: the one command that opens the review desk on the demo
#: database (``{database_url}``: the database the demo wrote; ``{replay}``: the recording it
#: crawled, so the desk's "look up now" replays it too instead of asking the platforms; both
#: quoted for a POSIX shell).
DESK_COMMAND = ("WANGZI_API_TOKEN=demo wangzi serve --database-url {database_url} --replay {replay}"
                "  # then open http://127.0.0.1:8000/ (token: demo)")
