"""Decide whether a customer message is a request: a question or an ask for action.

`detect(text, mode)` and `detect_many(texts, mode)` are the entry points; see
docs/detection.md for how the model is trained and how well it does.
"""

from rapport.detection.model import Detection, detect, detect_many
from rapport.detection.modes import DetectionMode

__all__ = ["Detection", "DetectionMode", "detect", "detect_many"]
