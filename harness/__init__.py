"""autopilot-harness: an offline runtime and test kit for Twilio Autopilot bots in Studio flows."""

__version__ = "0.1.0"
