"""The demo cloud: moto in-process, a seeded organisation, drift applied over time."""
