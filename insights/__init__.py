"""Next best action: pure logic for recommendations, churn scoring and care tasks.

Data in, data out: nothing here opens a graph or reads a request. The graph reads live in
``graph/repositories/insights.py``, the GraphQL types in ``schema/insights.py``.
"""
