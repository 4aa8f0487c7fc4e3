"""Endpoint checks over ``endpoint.device`` resources, whatever the source (Intune, Fleet, SSM, push)."""
