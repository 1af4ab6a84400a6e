"""Page modules: how to read what each platform and news source answers, with no Scrapy.

One module per platform or source turns one response (payload bytes, URL, HTTP status)
into one typed record; the spider of the same name only decides what to request. Nothing
in this package imports Scrapy or Twisted (``tests/test_layers.py`` checks it), so
``wangzi parse``, the fixture tests and storage can use every parser without a crawler.

Shared pieces: :mod:`.payload` (JSON, counts, text, times), :mod:`.status` (HTTP status ->
typed failure), :mod:`.parsing` (running a parser safely), :mod:`.registry` (name -> module),
:mod:`.identity` (profile links -> accounts).
"""
