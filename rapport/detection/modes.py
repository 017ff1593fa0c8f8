"""The two ways the request detector can be asked to decide."""

from django.db import models


class DetectionMode(models.TextChoices):
    """Which error the detector should rather make.

    Aggressive misses few requests and lets more non-requests through; conservative
    flags only messages it is sure of. Each has its own threshold in the artifact.
    """

    AGGRESSIVE = "aggressive", "Aggressive (catch every request)"
    CONSERVATIVE = "conservative", "Conservative (flag only clear requests)"
