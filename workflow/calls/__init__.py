"""The doors' one list of use cases: ``table`` names every operation a door can call (name →
HTTP method + path + the ``workflow`` function), ``runner`` runs one with a session, the caller,
the settings and the clock and returns plain JSON data. The CLI runs them locally or, in client
mode, over HTTP; the server's API routes are generated from the same table.

``table`` imports nothing but the standard library, so a client can read it without any
database code.
"""
