"""Face Commons dataset client: ``python -m facecommons_client sync --url URL --token TOKEN DIR``.

Standard library only, plus ``cryptography`` to check the platform's Ed25519 signature on
removal manifests. Never imports Django: it is installed on researchers' machines.
"""

__version__ = "0.1.0"
