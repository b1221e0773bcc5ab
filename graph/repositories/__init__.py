"""All Cypher of c360, one module per aggregate. Repositories import only ``graph.store``."""
