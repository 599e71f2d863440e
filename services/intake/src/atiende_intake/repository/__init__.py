"""All of intake's SQL, one module per aggregate; each class takes a connection."""
