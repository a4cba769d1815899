"""Face verifiers: one interface (``Verifier``); they are listed and built by ``ml.registry``."""

from ml.verifiers.base import Verifier, VerifierUnavailable

__all__ = ["Verifier", "VerifierUnavailable"]
