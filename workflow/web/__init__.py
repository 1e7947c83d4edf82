"""The server door: ``duban serve`` — the HTTP API (``/api/v1/…``) and the web pages.

Holds: ``app`` (the FastAPI application factory, error mapping, security headers),
``deps`` (per-request database session and the caller from a bearer token), the API routers and
the pages. Like the CLI it parses, calls one ``workflow`` function, renders; permission is decided
inside those functions. May use every room below it.
"""
