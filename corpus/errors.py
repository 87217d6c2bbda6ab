"""The root of every error oncosearch raises on purpose.

Library code raises a subclass that says what went wrong (a damaged file, a bad query, a busy
writer); only the faces (the CLI, later the HTTP server) turn it into words for a person, an
exit code or an HTTP status. Anything else that escapes is a bug. It lives in `corpus/` because
every package may import `corpus/` and `corpus/` imports nothing of ours.
"""


class OncosearchError(Exception):
    """An expected failure with a message fit to show as it is."""
