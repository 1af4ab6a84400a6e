"""The bundled demo: candidates (``candidates.csv``) and a recorded session (``demo.har``).

``demo.har`` is generated from the real samples in ``tests/fixtures`` by
``python -m crawler.demo.build`` (see ``manifest.toml``); it is committed so that
``wangzi demo`` runs offline from an installed package.
"""
