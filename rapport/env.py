"""Read settings from the environment through one typed helper that fails loudly."""

import os
from collections.abc import Callable, Mapping

from django.core.exceptions import ImproperlyConfigured

_MISSING = object()
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
Text = str  # The methods below are named after the types they return.
Texts = list[str]


class Env:
    """Typed access to environment variables; a bad value raises ImproperlyConfigured."""

    def __init__(self, environ: Mapping[Text, Text] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def _get[T](self, name: Text, default: object, cast: Callable[[Text], T], kind: Text) -> T:
        raw = self.environ.get(name)
        if raw is None:
            if default is _MISSING:
                raise ImproperlyConfigured(f"Set the environment variable {name} ({kind}).")
            return default  # type: ignore[return-value]
        try:
            return cast(raw.strip())
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}={raw!r} is not a valid {kind}: {exc}") from exc

    def str(self, name: Text, default: object = _MISSING) -> Text:
        return self._get(name, default, lambda raw: raw, "string")

    def int(self, name: Text, default: object = _MISSING) -> int:
        return self._get(name, default, int, "integer")

    def bool(self, name: Text, default: object = _MISSING) -> bool:
        def cast(raw: Text) -> bool:
            if raw.lower() in _TRUE:
                return True
            if raw.lower() in _FALSE:
                return False
            raise ValueError("use one of 1/0, true/false, yes/no, on/off")

        return self._get(name, default, cast, "boolean")

    def list(self, name: Text, default: object = _MISSING) -> Texts:
        return self._get(
            name,
            default,
            lambda raw: [item.strip() for item in raw.split(",") if item.strip()],
            "comma-separated list",
        )

    def choice(self, name: Text, choices: tuple[Text, ...], default: object = _MISSING) -> Text:
        def cast(raw: Text) -> Text:
            if raw not in choices:
                raise ValueError(f"expected one of {', '.join(choices)}")
            return raw

        return self._get(name, default, cast, "choice")
