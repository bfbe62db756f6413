"""``allocator serve``: a local web page and JSON API on the public verbs.

``app.py`` holds the routes, ``jobs.py`` runs each solve in its own process,
``uploads.py`` turns uploads into an instance folder safely, ``schemas.py``
the JSON shapes and ``labels.py`` the page's Norwegian and English words.
FastAPI is imported only in this package (tests/house/test_layers.py).
"""

from allocator.web.app import run as run
from allocator.web.common import Settings as Settings
