"""A language model behind an OpenAI-compatible chat completions API (optional)."""
