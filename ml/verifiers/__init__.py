"""Face verifier registry, the same shape as the detector registry."""

from ml.verifiers.base import Verifier, VerifierUnavailable, create_verifier, list_verifiers, register_verifier

__all__ = ["Verifier", "VerifierUnavailable", "create_verifier", "list_verifiers", "register_verifier"]
