"""Low-light assessment and enhancement. A library: never imports Django."""
