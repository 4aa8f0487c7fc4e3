"""The posture-agent command line."""
