"""The case registry: a de-identified case record (schema), CPT code rules, PHI checks, a local
outbox with a client that submits to a registry server, FHIR export, and a reference server
(``medprint.registry.server``, extra ``[server]``)."""
