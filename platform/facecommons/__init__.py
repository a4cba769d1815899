"""Face Commons: the Django apps of the platform."""
