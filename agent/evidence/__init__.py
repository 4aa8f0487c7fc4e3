"""Evidence for audits: verification of the hash chain and the records it commits to, signed
checkpoints, period coverage, point-in-time state, export bundles and their offline verification."""
