"""Schemathesis hooks for the local stack (loaded through SCHEMATHESIS_HOOKS by fuzz.py)."""

import schemathesis
from schemathesis.core import NotSet


@schemathesis.hook
def before_call(context, case, kwargs):
    """Makes a body that is not UTF-8 text into text that is still malformed JSON.

    API Gateway hands a function such a body base64-encoded (our functions answer 400), but
    the local router, `cargo lambda watch`, answers it 500 itself before any function runs;
    what is tested here is our functions, so the body keeps its bytes as replacement
    characters."""
    body = case.body
    if isinstance(body, (bytes, bytearray)):
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            case.body = bytes(body).decode("utf-8", "replace").encode("utf-8")
    # A `Content-Type` on a request without a body (a GET, say): the local router answers 500
    # itself when it is multipart without a boundary; API Gateway passes it on and our
    # functions ignore it, having no body to read.
    if isinstance(case.body, NotSet) and case.method.upper() in ("GET", "DELETE", "HEAD"):
        case.media_type = None
        if case.headers:
            for name in [h for h in case.headers if h.lower() == "content-type"]:
                del case.headers[name]
