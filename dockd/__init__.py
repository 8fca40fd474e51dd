"""dockd: an evidence-grade docking station for body-worn recorders."""

__version__ = "0.1.0"
