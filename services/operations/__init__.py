"""Operations: the dashboard's read model of the platform's topics, dead-letter tooling, pipeline health.

Where things are: what the casework view counts in ``measures.py``; the
read model in ``tables.py``, kept by ``handlers.py`` through ``storage.py``;
dead letters recorded, replayed and discarded in ``deadletters.py``, their
wire in ``kafka.py``; the pipeline's picture in ``pipeline.py``; pages in
``web.py`` and ``templates/``; the JSON API the CLI uses in ``api.py``.
"""
