"""The bottom layer: settings and the vocabulary every package shares (record models, value
checks, platform names). It imports nothing of c360's, so every layer may import it."""
