"""Cubicle's Python client: sandboxes, their screen and hands, the models'
computer-use routes, commands and files, over cubicled's HTTP API
(docs/api.md). The standard library only.

    from cubicle import Cubicle
    cu = Cubicle()                      # CUBICLE_URL, CUBICLE_API_KEY(_FILE)
    sb = cu.create(template="desktop")
    png = sb.screenshot()
    sb.click(100, 200)
    sb.type("hello\\n")
    print(sb.run("uname -a").stdout)
    sb.kill()

Every failure of cubicled's is a CubicleError subclass named for its
status, carrying the API's code and message.
"""

from .client import (
    BadRequest,
    Command,
    Conflict,
    Cubicle,
    CubicleError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    SafetyCheckPending,
    Sandbox,
    ServerError,
    TooManySandboxes,
    Unauthorized,
    Unavailable,
)

__all__ = [
    "BadRequest", "Command", "Conflict", "Cubicle", "CubicleError", "Forbidden", "NotFound",
    "PayloadTooLarge", "SafetyCheckPending", "Sandbox", "ServerError", "TooManySandboxes",
    "Unauthorized", "Unavailable",
]
__version__ = "0.1"
