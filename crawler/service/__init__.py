"""The HTTP service (``wangzi serve``): on-demand lookups and read access for other systems.

Routes (OpenAPI document at ``/openapi.json``; every route but ``/health`` and the docs page
``/docs`` needs ``Authorization: Bearer $WANGZI_API_TOKEN``; the docs page, served from this
package with no CDN, holds no data and reads ``/openapi.json`` with the token a person types in):

* ``POST /lookups`` - a candidate id, or a name plus handles per platform -> ``202`` and a
  job id. Handles are validated by each platform's ``normalize_account`` (a handle, an id
  or that platform's own profile URL); the crawler builds every URL itself from the
  normalised account, so no caller can make it fetch an arbitrary URL.
* ``GET /lookups/{id}`` - status and, when done, each platform's profile and failures.
* ``GET /candidates``, ``GET /candidates/{id}``, ``GET /candidates/{id}/features``.
* Curation: ``POST /candidates``, ``PATCH``/``DELETE /candidates/{id}``, ``POST
  /candidates/{id}/accounts``, ``DELETE /candidates/{id}/accounts/{account_id}``, ``POST
  /candidates/import`` (a CSV body, up to the upload limit), ``POST /merges``, ``GET /merges``,
  ``POST /merges/{id}/undo``.
* ``GET /ranking`` - the ranking, with filters, a page at a time.

Laid out as FastAPI's and SQLModel's docs lay out an application: ``models`` (what clients
send and get), ``dependencies`` (the service's settings, a database session per request,
the bearer check), ``routes`` (every route, at module level on one ``APIRouter``),
``lookups`` (the queue that runs lookups in worker subprocesses), ``body_limit`` (an ASGI
middleware) and ``app`` (the factory that wires them).

This package's own module holds only the service's defaults, so ``wangzi serve`` can show
them in ``--help`` without importing FastAPI.
"""

#: Largest request body accepted, in bytes (a lookup request is a few hundred bytes).
DEFAULT_MAX_BODY = 16 * 1024
#: Largest CSV file ``POST /candidates/import`` and the desk's upload form accept, in bytes (200,000
#: rows of a name, an alias and two accounts are ~12 MB); ``WANGZI_API_MAX_UPLOAD`` changes it.
DEFAULT_MAX_UPLOAD = 64 * 1024 * 1024
#: The routes whose bodies may be as large as the upload limit; every other one has the body limit.
UPLOAD_PATHS = ("/candidates/import", "/desk/candidates/import")
#: Longest a lookup subprocess may run before it is stopped and the job marked failed.
DEFAULT_LOOKUP_TIMEOUT = 900.0
#: Lookups crawling at once, each in its own process; the rest wait in a queue.
DEFAULT_WORKERS = 2
