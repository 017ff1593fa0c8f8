"""Normalizers of the channels that live in the inbox app (email, API tickets).

Slack and web chat register theirs from their own apps.
"""
