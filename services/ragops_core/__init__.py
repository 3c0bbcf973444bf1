"""RAGOps core: domain types, ports, pure logic and the adapters behind the ports."""
