"""posture-agent's demo and test fakes (distribution posture-agent-demo, not part of the agent's wheel):
the demo cloud on loopback (moto, fake GCP, Azure and devices, a local TSA), a seeded organisation, drift
applied over time, and `posture-agent demo` (run.py)."""
