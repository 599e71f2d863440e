"""Development tools for the event contracts: JSON Schema snapshots, the breaking-change rule,
the AsyncAPI document and the `atiende-contracts` command. Not a runtime dependency of any
service (import-linter forbids it)."""
