"""Face models for the platform: detectors, verifiers, metrics. Never imports Django."""
