"""The one error type for bad user input: it names the field and the values it accepts."""


class ConfigError(ValueError):
    """Bad input. The CLI prints ``message`` alone and exits with code 2."""

    def __init__(self, field: str, accepted: str, got: object):
        self.field, self.accepted, self.got = field, accepted, got
        super().__init__(f"{field}: got {got!r}; accepted: {accepted}")


class StoreError(RuntimeError):
    """The results store cannot be opened or written; nothing stored was changed."""
