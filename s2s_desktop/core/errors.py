"""Errors the core raises on purpose: each carries a message meant for the user."""


class S2SError(Exception):
    """Base class: str(error) is a complete, user-facing explanation."""


class ModelError(S2SError):
    """A model directory is missing, incomplete or cannot be loaded."""


class DeviceError(S2SError):
    """The requested device or compute type is not available here."""


class DocumentError(S2SError):
    """A document cannot be read; the message names the file and the reason."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"Cannot read {self.path}: {reason}")


class Cancelled(S2SError):
    """The job was cancelled by the user."""

    def __init__(self, message: str = "Cancelled"):
        super().__init__(message)
