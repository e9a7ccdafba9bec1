"""Redis (Upstash) and in-process adapters: "seen this already?" keys and repeat counts."""
